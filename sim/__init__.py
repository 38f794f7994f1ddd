"""Agent-based simulator of Chongqing's district innovation policy.

    from sim import InnovationModel
    model = InnovationModel(seed=42)      # the city at the end of 2022
    for _ in range(12):
        model.step()                      # one quarter
    model.datacollector.get_model_vars_dataframe()
"""

from .model import InnovationModel, replicate_seed
from .params import ParamError, Params

__all__ = ["InnovationModel", "Params", "ParamError", "replicate_seed"]
