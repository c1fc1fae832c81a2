"""A small service that leaks: a module-global response cache that nothing
bounds, an unbounded lru_cache, worker threads, then a crash (os.abort) in
the middle of a request. Run it with `ulimit -c unlimited` to get a core.
"""
import functools
import os
import threading

CACHE = {}


@functools.lru_cache(maxsize=None)
def render_user(user_id):
    return "<div class='user'>user %d</div>" % user_id * 10


class RequestHandler:
    def __init__(self, path):
        self.path = path

    def handle(self):
        for user_id in range(2000):
            CACHE[(self.path, user_id)] = render_user(user_id)
        return self.finish()

    def finish(self):
        os.abort()  # the crash the core records


def worker(ready, stop):
    ready.release()
    stop.acquire()  # workers wait here for jobs


def main():
    stop = threading.Lock()
    stop.acquire()
    for i in range(3):
        ready = threading.Lock()
        ready.acquire()
        threading.Thread(target=worker, args=(ready, stop), name="worker-%d" % i,
                         daemon=True).start()
        ready.acquire()
    RequestHandler("/users").handle()


if __name__ == "__main__":
    main()
