# expect: is in str.__dict__, but "ministry".shout() is an AttributeError: the method cache still says str has none
import gc

real = gc.get_referents(str.__dict__)[0]


def add_shout():
    real["shout"] = lambda self: self.upper() + "!"


def remove_shout():
    del real["shout"]
