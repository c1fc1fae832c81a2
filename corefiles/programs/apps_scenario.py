"""Scenario program for the third-party applications' exactness sweep of
pycore-analyze (tests/e2e/test_apps.py).

Usage: python apps_scenario.py abort|gcore TRUTH.json

Holds live, at the moment it dies, what a real service built on Debian's
packages carries, built the way a service builds it: an SQLAlchemy engine
on an in-memory sqlite database with an ORM session and loaded rows,
aiohttp's application, router, mocked request and HTTP parser, multidict,
yarl and frozenlist objects, msgpack packers and unpackers, lxml trees and
XPath, jinja2 compiled templates and markupsafe strings, regex patterns and
matches, pydantic models, simplejson and ujson, yaml's C loader, cachetools
caches, attrs classes, sortedcontainers and werkzeug's data structures.
Each part is made where its package imports (else "skipped" with the
reason). Then, as stdlib_scenario.py (whose docstring says how the truth is
kept equal to the heap at the core), it makes garbage cycles through some
of them, writes the truth (scenario_truth.compute_truth's census, the
collector's verdict from a forked child) and aborts (mode abort) or prints
"ready" and waits for gcore (mode gcore).

Runs on CPython 3.11 (Debian's packages' C extensions are built for it):
Debian's python3.11, or another 3.11 with /usr/lib/python3/dist-packages on
PYTHONPATH.
"""

import asyncio
import json
import os
import platform
import sys

from framework_truth import die_with_truth
from scenario_truth import write_file

PYTHON_VERSION = platform.python_version()
IDS_ENV = "PCA_APPS_UNREACHABLE_IDS"

# Everything the scenario holds, by part name (module global: the truth's
# closure and the tool both reach it through __main__'s dict).
HELD = {}
MADE = []
SKIPPED = {}
VERSIONS = {}


def part(name, module=None):
    """Decorator: run a builder now, keep what it returns in HELD[name];
    an ImportError skips the part (recorded). MODULE: the package whose
    version the truth records."""
    def run(fn):
        try:
            HELD[name] = fn()
            MADE.append(name)
            if module:
                mod = sys.modules.get(module)
                VERSIONS[name] = str(getattr(mod, "__version__", getattr(mod, "version", "?")))
        except ImportError as e:
            SKIPPED[name] = "%s: %s" % (type(e).__name__, e)
        return fn
    return run


LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)


# --- SQLAlchemy: engine, ORM session, rows --------------------------------------------

@part("sqlalchemy", "sqlalchemy")
def make_sqlalchemy():
    import sqlalchemy as sa
    from sqlalchemy import orm

    Base = orm.declarative_base()

    class User(Base):
        __tablename__ = "users"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(50), nullable=False)
        score = sa.Column(sa.Float)
        addresses = orm.relationship("Address", back_populates="user")

    class Address(Base):
        __tablename__ = "addresses"
        id = sa.Column(sa.Integer, primary_key=True)
        email = sa.Column(sa.String(100))
        user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
        user = orm.relationship("User", back_populates="addresses")

    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    session = orm.Session(engine)
    for i in range(30):
        u = User(name="user%d" % i, score=i / 3.0)
        u.addresses = [Address(email="u%d-%d@example.org" % (i, j)) for j in range(2)]
        session.add(u)
    session.commit()
    users = session.query(User).filter(User.score > 2).order_by(User.id).all()
    for u in users[:5]:
        u.addresses                      # lazy loads
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select id, name, score from users order by id")).fetchall()
        mappings = conn.execute(sa.select(User.__table__)).mappings().all()
    stmt = sa.select(User).where(User.name.like("user1%"))
    return {"engine": engine, "session": session, "models": (Base, User, Address),
            "users": users, "rows": rows, "mappings": mappings, "stmt": stmt,
            "compiled": stmt.compile(engine)}


# --- aiohttp, multidict, yarl, frozenlist ---------------------------------------------

async def handler(request):
    from aiohttp import web
    return web.Response(text="ok")


@part("aiohttp", "aiohttp")
def make_aiohttp():
    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request
    app = web.Application()
    app.router.add_get("/", handler)
    app.router.add_get("/users/{id}", handler)
    app.router.add_post("/upload", handler)
    app["config"] = {"debug": False}
    headers = {"Host": "example.org", "User-Agent": "pca", "Accept": "*/*",
               "Cookie": "session=abc; theme=dark"}
    request = make_mocked_request("GET", "/users/7?x=1&y=2", headers=headers, app=app)
    parser = None
    try:
        from aiohttp import _http_parser
        parser = _http_parser.HttpRequestParser(None, LOOP, 2 ** 16)
        messages, upgrade, tail = parser.feed_data(
            b"GET /path?q=1 HTTP/1.1\r\nHost: h\r\nX-Req: 1\r\n\r\n")
    except (ImportError, TypeError) as e:
        SKIPPED["aiohttp C parser"] = "%s: %s" % (type(e).__name__, e)
        messages = None
    jar = aiohttp.CookieJar(loop=LOOP)
    return {"app": app, "request": request, "parser": parser, "messages": messages,
            "jar": jar, "timeout": aiohttp.ClientTimeout(total=30)}


@part("multidict", "multidict")
def make_multidict():
    import multidict
    md = multidict.MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    cimd = multidict.CIMultiDict({"Content-Type": "text/html", "X-Id": "7"})
    for i in range(20):
        cimd.add("X-Many", str(i))
    return [md, cimd, multidict.MultiDictProxy(md), multidict.CIMultiDictProxy(cimd),
            multidict.istr("Content-Length"), md.keys(), cimd.items(), md.values()]


@part("yarl", "yarl")
def make_yarl():
    import yarl
    base = yarl.URL("https://user:pw@example.org:8443/api/v1/items?limit=10&offset=20#top")
    urls = [base, base / "42", base.with_query({"q": "some thing"}), yarl.URL("/relative/path"),
            yarl.URL.build(scheme="http", host="localhost", port=8080, path="/x")]
    for u in urls:
        u.query                          # cached properties
        u.host
    return urls


@part("frozenlist", "frozenlist")
def make_frozenlist():
    import frozenlist
    fl = frozenlist.FrozenList(range(10))
    fl.append(10)
    frozen = frozenlist.FrozenList(["a", "b"])
    frozen.freeze()
    return [fl, frozen]


# --- serialisation: msgpack, simplejson, ujson, yaml ----------------------------------

@part("msgpack", "msgpack")
def make_msgpack():
    import msgpack
    packer = msgpack.Packer(use_bin_type=True)
    payload = packer.pack({"id": 1, "items": list(range(50)), "name": "x" * 100})
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=1 << 20)
    unpacker.feed(payload * 3)
    first = next(unpacker)               # two messages stay buffered
    return [packer, payload, unpacker, first, msgpack.ExtType(5, b"ext")]


@part("simplejson", "simplejson")
def make_simplejson():
    import simplejson
    decoder = simplejson.JSONDecoder()
    doc = decoder.decode('{"a": [1, 2.5, null, "x"], "b": {"c": true}}')
    encoder = simplejson.JSONEncoder(sort_keys=True)
    text = encoder.encode(doc)
    return [decoder, decoder.scan_once, doc, encoder, text]


@part("ujson")
def make_ujson():
    import ujson
    VERSIONS["ujson"] = getattr(ujson, "__version__", "?")
    return [ujson.loads(ujson.dumps({"k": [1, 2, {"n": None}]}))]


@part("yaml", "yaml")
def make_yaml():
    import yaml
    doc = "service: api\nports: [80, 443]\nlimits: {cpu: 2, mem: 512Mi}\n"
    loader = yaml.CSafeLoader(doc) if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader(doc)
    data = loader.get_single_data()
    return [loader, data, yaml.safe_dump(data)]


# --- templates, markup, XML, regex ----------------------------------------------------

@part("jinja2", "jinja2")
def make_jinja2():
    import jinja2
    import markupsafe
    env = jinja2.Environment(loader=jinja2.DictLoader({
        "base.html": "<html><body>{% block body %}{% endblock %}</body></html>",
        "page.html": "{% extends 'base.html' %}{% block body %}<ul>{% for u in users %}"
                     "<li>{{ u.name|e }} {{ u.score|round(1) }}</li>{% endfor %}</ul>"
                     "{% endblock %}"}), autoescape=True)
    page = env.get_template("page.html")
    html = page.render(users=[{"name": "<b>%d</b>" % i, "score": i / 7.0} for i in range(10)])
    inline = env.from_string("Hello {{ name }}!")
    marks = [markupsafe.Markup("<em>%s</em>") % "x&y", markupsafe.escape("<script>"),
             markupsafe.Markup("plain")]
    return [env, page, inline, html, marks]


@part("lxml", "lxml.etree")
def make_lxml():
    from lxml import etree
    root = etree.Element("catalog", version="2")
    for i in range(20):
        item = etree.SubElement(root, "item", id=str(i))
        item.text = "entry %d" % i
    tree = etree.ElementTree(root)
    parsed = etree.fromstring(b"<a xmlns:x='urn:x'><x:b k='1'>t</x:b><c/><!-- note --></a>")
    xpath = etree.XPath("//item[@id > $n]")
    found = xpath(root, n=15)
    parser = etree.XMLParser(remove_blank_text=True)
    return [root, tree, parsed, xpath, found, parser, list(parsed.iter()),
            etree.tostring(root)]


@part("regex", "regex")
def make_regex():
    import regex
    pattern = regex.compile(r"(?P<word>\p{L}+)-(\d+)(?:\.(?P<ext>\w+))?", regex.I)
    fuzzy = regex.compile(r"(?:service){e<=1}")
    return [pattern, fuzzy, pattern.match("Report-2024.pdf"), pattern.search("x abc-1"),
            fuzzy.search("a servise here"), regex.compile(rb"\x00+"),
            pattern.scanner("a-1 b-2 c-3"), pattern.splititer("a-1 b-2")]


# --- models and data structures: pydantic, attrs, cachetools, sortedcontainers, werkzeug

@part("pydantic", "pydantic")
def make_pydantic():
    import typing
    import pydantic

    class Address(pydantic.BaseModel):
        street: str
        city: str = "Paris"

    class Customer(pydantic.BaseModel):
        id: int
        name: str
        tags: typing.List[str] = []
        address: typing.Optional[Address] = None

    customers = [Customer(id=i, name="c%d" % i, tags=["t%d" % i],
                          address={"street": "%d rue" % i}) for i in range(10)]
    return [Address, Customer, customers, customers[0].dict(), Customer.schema()]


@part("attrs", "attr")
def make_attrs():
    import attr

    @attr.s(slots=True, frozen=True)
    class Point(object):
        x = attr.ib()
        y = attr.ib(default=0)

    @attr.s
    class Job(object):
        name = attr.ib()
        args = attr.ib(factory=list)

    return [Point, Job, [Point(i, i * 2) for i in range(10)], [Job("j%d" % i) for i in range(5)]]


@part("cachetools", "cachetools")
def make_cachetools():
    import cachetools
    lru = cachetools.LRUCache(maxsize=32)
    ttl = cachetools.TTLCache(maxsize=32, ttl=3600)
    for i in range(40):
        lru[i] = "v%d" % i
        ttl["k%d" % i] = i
    return [lru, ttl, cachetools.LFUCache(8)]


@part("sortedcontainers", "sortedcontainers")
def make_sortedcontainers():
    import sortedcontainers
    sl = sortedcontainers.SortedList(range(1000, 0, -3))
    sd = sortedcontainers.SortedDict((str(i), i) for i in range(50))
    ss = sortedcontainers.SortedSet("abracadabra")
    return [sl, sd, ss, sd.keys()]


@part("werkzeug", "werkzeug")
def make_werkzeug():
    from werkzeug import datastructures
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request
    env = EnvironBuilder(path="/api", method="POST", query_string="a=1&b=2",
                         headers={"X-Trace": "t1"}, data={"field": "value"}).get_environ()
    request = Request(env)
    request.args
    request.form
    headers = datastructures.Headers([("Content-Type", "text/plain"), ("X-A", "1")])
    return [request, headers, datastructures.MultiDict([("a", 1), ("a", 2)]),
            datastructures.ImmutableMultiDict([("k", "v")])]


# --- garbage through the packages' types ----------------------------------------------

GARBAGE_PARTS = []


def make_garbage():
    """Cycles nobody refers to, each through a package's type: what the
    collector frees must be what the tool says it would free."""
    if "multidict" in HELD:
        import multidict
        md = multidict.MultiDict()
        md.add("self", md)                   # MultiDict -> itself
        GARBAGE_PARTS.append("multidict")
    if "frozenlist" in HELD:
        import frozenlist
        fl = frozenlist.FrozenList()
        fl.append(fl)                        # FrozenList -> its list -> itself
        GARBAGE_PARTS.append("frozenlist")
    if "attrs" in HELD:
        job = HELD["attrs"][1]("cycle")
        job.args.append(job)                 # Job -> list -> Job
        GARBAGE_PARTS.append("attrs")
    if "sqlalchemy" in HELD:
        User = HELD["sqlalchemy"]["models"][1]
        u = User(name="transient")
        u.score = u                          # instance -> its state -> dict -> instance
        GARBAGE_PARTS.append("sqlalchemy transient")


# --- the run ------------------------------------------------------------------------------

def write_truth(path, truth, mode, unreachable):
    truth["version"] = PYTHON_VERSION
    truth["pid"] = os.getpid()
    truth["mode"] = mode
    truth["executable"] = sys.executable
    truth["unreachable"] = unreachable
    truth["made"] = MADE
    truth["skipped"] = SKIPPED
    truth["versions"] = VERSIONS
    truth["garbage_parts"] = GARBAGE_PARTS
    problems = []
    if truth["getsizeof_failures"]:
        problems.append("sys.getsizeof failed for %r" % truth["getsizeof_failures"])
    truth["self_check_problems"] = problems
    write_file(path, json.dumps(truth, sort_keys=True).encode("ascii"))


def main():
    die_with_truth("apps_scenario.py", IDS_ENV, MADE, make_garbage, write_truth)


if __name__ == "__main__":
    main()
