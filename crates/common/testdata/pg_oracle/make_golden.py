import sys, random
# usage: mkgolden.py corpus pg_out my_out dest [max_lines] [append]
corpus, pg, me, dest = sys.argv[1:5]
maxn = int(sys.argv[5]) if len(sys.argv) > 5 else 10**9
mode = "a" if len(sys.argv) > 6 else "w"
c = open(corpus).read().split("\n"); a = open(pg).read().split("\n"); b = open(me).read().split("\n")
rows = []
for x, y, z in zip(c, a, b):
    if not x: continue
    ys = y.split("\t"); zs = z.split("\t")
    if y == z:
        rows.append(x + "\t" + y)
    elif len(ys) == 3 and len(zs) == 3 and ys[2] == zs[2] and ys[1] in ("22015", "22009") and zs[1] == "22008":
        rows.append(x + "\t" + z)   # our documented SQLSTATE substitute
random.seed(1)
if len(rows) > maxn:
    rows = random.sample(rows, maxn)
seen = set(); out = []
for r in rows:
    if r in seen: continue
    seen.add(r); out.append(r)
with open(dest, mode) as f:
    for r in out: f.write(r + "\n")
print(len(out))
