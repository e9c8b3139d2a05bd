"""Measurement beside the core: quality (`qa eval`), tuning and speed (`qa bench`).

These modules import the core; the core never imports them.
- `datasets.py`: the labelled seed questions and SQuAD-format files
- `eval.py`: retrieval recall, first-citation accuracy, abstention, per mode
- `tuning.py`: the grid search of fusion and BM25 settings
- `bench.py`, `bench_scale.py`: build, query latency by stage, cold start, synthetic scale
- `bench_stories.py`: `qa bench --stories`: exhaustiveness, grouping and speed of `qa.stories`
- `common.py`: what they share
"""
