"""Scenario program for the framework end-to-end test of pycore-analyze
(tests/e2e/test_framework.py --framework django): a real Django application
(Debian's python3-django; settings configured in code, no database, no
installed apps) serves requests through django.test.Client, which drives
Django's WSGI handler in-process (no network), some of which raise and
catch exceptions, with the collector off, as a service between two
collections is.

Usage: python django_scenario.py abort|gcore TRUTH.json

Needs Django importable (Debian's python3.11 finds it; another interpreter
needs PYTHONPATH=/usr/lib/python3/dist-packages). Exits 3 without a core
when Django cannot be imported.

Requests (REQUESTS rounds of each), through Django's middleware (common,
security), URL resolver and a template rendered from a string:
  /item/<n>   a JsonResponse: ordinary garbage of a request (the WSGI
              environ, WSGIRequest, QueryDict, resolver match, response).
  /page/<n>   a template rendered with a context: Django's template engine.
  /kept/<n>   catches a KeptFailure raised two calls deep and appends it to
              FAILURES (a module global): exception -> traceback -> frames
              of finished calls -> their locals (a Payload each) stay alive.
  /drop/<n>   catches a DroppedFailure and keeps it in a local of the view,
              which returns: exception -> traceback -> the view's frame ->
              its locals -> the exception (garbage); the Payload its frames
              hold is garbage too.

The truth is flask_scenario.py's (framework_truth.py computes it), plus
"django" (the package's file) and "framework".

Debugging aid: DJANGO_SCENARIO_IDS=FILE, as FLASK_SCENARIO_IDS.
"""

import sys

import framework_truth
from framework_truth import FAIL_DEPTH

try:
    import django
    from django.conf import settings
except ImportError as e:
    sys.stderr.write("django_scenario: cannot import django (%s): install python3-django\n" % e)
    sys.exit(3)

settings.configure(
    DEBUG=False,
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["testserver"],
    SECRET_KEY="pycore-analyze django scenario",
    INSTALLED_APPS=[],
    DATABASES={},
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                "django.middleware.common.CommonMiddleware"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
    USE_TZ=True,
)
django.setup()

from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import path  # noqa: E402


class KeptFailure(Exception):
    pass


class DroppedFailure(Exception):
    pass


class Payload(object):
    """Held only by the locals of a failed call's frame."""
    def __init__(self, n):
        self.n = n
        self.body = ["payload", n]


FAILURES = []
PAGE = engines["django"].from_string(
    "<ul>{% for t in tags %}<li>{{ t|upper }}</li>{% endfor %}</ul>{{ n }}")


def item(request, n):
    return JsonResponse({"item": n, "tags": ["a", "b", str(n)]})


def page(request, n):
    return HttpResponse(PAGE.render({"n": n, "tags": ["x", "y", str(n)]}, request))


def kept(request, n):
    try:
        framework_truth.fail_deep(KeptFailure, Payload, n, FAIL_DEPTH)
    except KeptFailure as e:
        FAILURES.append(e)
    return HttpResponse("kept %d" % n)


def drop(request, n):
    try:
        framework_truth.fail_deep(DroppedFailure, Payload, n, FAIL_DEPTH)
    except DroppedFailure:
        # the exception in a local of the frame its traceback holds: a cycle
        failure = sys.exc_info()[1]
    return HttpResponse("dropped %d" % (failure.args[1],))


urlpatterns = [
    path("item/<int:n>", item),
    path("page/<int:n>", page),
    path("kept/<int:n>", kept),
    path("drop/<int:n>", drop),
]
client = Client()


def serve(rounds, base):
    for i in range(rounds):
        n = base + i
        for url in ("/item/%d" % n, "/page/%d" % n, "/kept/%d" % n, "/drop/%d" % n):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit("%s: status %d" % (url, response.status_code))
            response.close()


if __name__ == "__main__":
    framework_truth.run("django_scenario.py", serve, 4, ("django",),
                        FAILURES, "DJANGO_SCENARIO_IDS", {"framework": "django", "django": django.__file__})
