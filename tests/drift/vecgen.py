"""Shared helpers of the tests/drift/gen_*.py scripts: the generated-array
kinds of tests/drift_vec.h (bit-identical to the C reader's) and a writer
of the .vec format. Run the scripts with Debian's /usr/bin/python3 and
python3-scipy; their output is committed."""
import math

MASK = (1 << 64) - 1


def _splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def generate(kind, seed, n, p1, p2):
    """The array 'gen kind seed n p1 p2' stands for, as Python floats."""
    out = []
    st = seed
    for _ in range(n):
        if kind == "uniform":
            st, x = _splitmix64(st)
            out.append(p1 + (p2 - p1) * ((x >> 11) * 2.0 ** -53))
        elif kind == "normal":
            s = 0.0
            for _ in range(12):
                st, x = _splitmix64(st)
                s += (x >> 11) * 2.0 ** -53
            out.append(p1 + p2 * (s - 6.0))
        elif kind == "int":
            st, x = _splitmix64(st)
            out.append(float(math.floor(p1 + (p2 - p1 + 1.0) * ((x >> 11) * 2.0 ** -53))))
        else:
            raise ValueError(kind)
    return out


def num(x):
    """A double as text that strtod reads back exactly."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x.hex()


class Writer:
    """Writes cases: w.case(name, key=value, ...) where a value is a str,
    a number, a list of numbers, or Gen(kind, seed, n, p1, p2)."""

    def __init__(self, path, header):
        self.f = open(path, "w")
        for line in header.strip().splitlines():
            self.f.write("# " + line + "\n")

    def case(self, name, **fields):
        self.f.write("case %s\n" % name)
        for k, v in fields.items():
            if isinstance(v, Gen):
                self.f.write("%s[] gen %s %d %d %s %s\n" % (k, v.kind, v.seed, v.n, num(v.p1), num(v.p2)))
            elif isinstance(v, (list, tuple)) or getattr(v, "ndim", 0) > 0:
                vals = list(v.tolist() if hasattr(v, "tolist") else v)
                self.f.write("%s[] %d %s\n" % (k, len(vals), " ".join(num(x) for x in vals)))
            elif isinstance(v, str):
                self.f.write("%s %s\n" % (k, v))
            else:
                self.f.write("%s %s\n" % (k, num(v)))
        self.f.write("end\n")

    def close(self):
        self.f.close()


class Gen:
    def __init__(self, kind, seed, n, p1, p2):
        self.kind, self.seed, self.n, self.p1, self.p2 = kind, seed, n, p1, p2

    def values(self):
        return generate(self.kind, self.seed, self.n, self.p1, self.p2)
