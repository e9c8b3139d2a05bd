"""Training the project's models (today: the reader). Imports the core; the core never imports it.

- `reader_data.py`: question groups from SQuAD (positives, hard negatives, no-answer groups)
- `reader.py`: `qa train-reader`: training, int8 ONNX export, sanity check, model card
"""
