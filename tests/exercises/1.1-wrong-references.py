# expect: because something now holds the object: write ob_refcnt itself instead
held = []


def inflate(obj, n):
    held.extend([obj] * n)


def deflate(obj, n):
    del held[-n:]
