"""The chat: a Gradio app (`app.py`: layout, events, the `/ask` endpoint) and the HTML of its
replies (`markup.py`: escaped quotes, highlighted passages, source cards)."""
