"""The two pages: the live dashboard and the history. Both are static shells filled by JS."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def dashboard():
    return render_template("dashboard.html", page="live")


@bp.get("/history")
def history():
    return render_template("history.html", page="history")
