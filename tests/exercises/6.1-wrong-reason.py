# expect: 2 ** 200 runs without an error: it was left alone because its value is too big, not because it raises
expr = "2 ** 200"
reason = "raises"
