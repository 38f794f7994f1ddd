"""Agent-based simulator of Chongqing's district innovation policy."""
