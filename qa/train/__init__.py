"""Training the project's models (today: the reader). Imports the core; the core never imports it.

- `span_data.py`: a question's training group (answer passage, hard negatives, ledes, no-answer groups);
  `ledes.py`: sentences that restate a question without its answer, as a news lede does
- `stream.py`: every training question in a seeded order per epoch, read as groups on demand
- `span_model.py`: the network and its loss; `held.py`: batches and the held-out figures
- `reader.py`: `qa train-reader`: training, resumable; `warm.py`: going on from a shipped reader
- `export.py`: int8 ONNX export and the model card
"""
