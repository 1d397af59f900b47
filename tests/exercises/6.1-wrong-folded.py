# expect: 7 // 2 was folded
expr = "7 // 2"
reason = "raises"
