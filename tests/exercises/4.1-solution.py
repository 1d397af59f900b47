# expect: solved
import dis


def fadd(a, b):
    return a + b


for i in range(1000):
    fadd(i * 0.5, 0.25)
dis.dis(fadd, adaptive=True)
