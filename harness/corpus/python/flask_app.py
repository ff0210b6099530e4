"""A Flask application served by gunicorn (see gunicorn_conf.py)."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/items/<int:item>")
def item(item: int):  # type: ignore[no-untyped-def]
    return jsonify(id=item, name=f"item {item}")
