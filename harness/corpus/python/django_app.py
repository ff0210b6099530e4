"""A Django application (settings in this module) served by gunicorn: URL routing, a view
that reads and writes SQLite through Django's database layer, a JSON response."""

import os

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="corpus-only-not-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(os.environ.get("TMPDIR", "/tmp"), "django.sqlite3"),
        }
    },
    INSTALLED_APPS=["django.contrib.contenttypes"],
    USE_TZ=True,
)
django.setup()

from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def item(request: object, item: int) -> JsonResponse:
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, item INTEGER)")
        cur.execute("INSERT INTO hits (item) VALUES (%s)", [item])
    return JsonResponse({"id": item, "name": f"item {item}"})


urlpatterns = [path("items/<int:item>", item)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
