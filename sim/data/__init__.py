"""The data: Chongqing's published figures as files (``*.csv``, ``*.toml``, ``boundaries.geojson``,
each row with its status and source; ``README.md`` says where each comes from) and their loaders.

- ``tables``: reading a file against a schema, so any damage is a ``DataError`` naming file,
  row and column;
- ``identity``: the data folder and the 38 districts' identity (the adcodes every table is
  checked against);
- ``datasets``: the district indicators, boundaries, platforms and the start states;
- ``district_start``: which end-2022 district stocks are the districts' own figures, how the
  proxies behind the others score, and the error model each replicate draws its split from;
- ``actors``: universities, leading firms, industry directions, paired assistance, the
  Sichuan–Chongqing list and the published history series;
- ``recent``: the city's published figures from 2023 on (``city_recent.csv``), each row with the
  kind of statement it is (a level, a preliminary figure, a lower bound, a partial-year flow ...),
  which the calibration's observation models compare the model with.
The scripts that derived some of the files, run by hand, are in ``tools/data/``.

Imports only ``sim.util``.
"""
