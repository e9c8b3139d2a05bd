"""The chat: a Gradio app (`app.py`: layout and events), its API endpoints which are also its
MCP tools (`api.py`: ask, retrieve, verify), and the HTML of its replies (`markup.py`: escaped
quotes, highlighted passages, source cards), and the Stories tab (`stories_view.py`: a query's
articles on a time axis, its stories, "ask about this story")."""
