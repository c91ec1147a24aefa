import sys, collections
c = open("/tmp/ops.tsv").read().split("\n")
a = open("/tmp/ops_pg.txt").read().split("\n")
b = open("/tmp/ops_me.txt").read().split("\n")
n=0; by=collections.Counter()
for x,y,z in zip(c,a,b):
    if y != z:
        ys = y.split("\t"); zs = z.split("\t")
        if len(ys)==3 and len(zs)==3 and ys[2]==zs[2] and ys[1] in ("22015","22009") and zs[1]=="22008": continue
        n+=1; by[x.split("\t")[1]]+=1
        if len(sys.argv) < 2 or x.split("\t")[1] in sys.argv[1:]:
            print(x); print("  PG: "+y); print("  ME: "+z)
print(n, "diffs", dict(by), file=sys.stderr)
