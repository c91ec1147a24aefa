import random
random.seed(int(__import__('sys').argv[1]) if len(__import__('sys').argv)>1 else 3)
toks = ["2020","20","1999","06","6","25","31","12","1","0","00","001","2020-06-25","2020/06/25","06/25/2020","25.06.2020","2020.06.25","12:34","12:34:56","12:34:56.789","1:2:3","24:00","12:34.5","T","t","Jun","June","jan","Sept","Monday","Thu","AM","PM","am","BC","AD","UTC","Z","EST","+02","-05:30","+0530","-8","+15:00","+16","allballs","epoch","now","today","infinity","-infinity","J2451187","200625","20200625","120000","040506.789","1999.008","2020-Jun-25","Jun-25-2020","25-Jun-2020",",","  ","-",".","/","at","on","DST","PDT","CEST","y","d","h","999999","2147483648","5874897","294276","60","59.999","2020-06-25T12:00:00","99-01-08","13","32"]
ivtoks = ["1","2","-1","+1","1.5","-1.5",".5","10","100","2147483647","2147483648","0","day","days","d","hour","hours","h","hr","min","minute","mins","m","mon","month","months","year","years","y","yr","week","w","sec","second","s","ms","msec","millisecond","us","usec","microsecond","decade","century","millennium","ago","@","01:02","01:02:03","1:2:3.5","-01:02:03","+01:02","1-2","-1-2","1-12","P1Y","P1M","PT1H","P1Y2M3DT4H5M6S","PT1.5S","P1W","P0001-02-03T04:05:06","quarter","qtr","DAY"," ",",","1day","2hours","3 mons","at","1.5 weeks","0.1 years"]
def gen(pool, n):
    return " ".join(random.choice(pool) for _ in range(n))
out = []
for _ in range(4000):
    n = random.randint(1,4)
    s = gen(toks, n)
    for t in ["date","time","timestamp","timestamptz"]:
        out.append((t, s))
    out.append(("interval", gen(ivtoks, random.randint(1,5))))
def esc(s): return s.replace('\\','\\\\').replace('\n','\\n').replace('\t','\\t')
with open("/tmp/corpus.tsv","w") as f:
    for t,v in out:
        if "now" in v or "today" in v: continue
        f.write(t+"\t"+esc(v)+"\n")
