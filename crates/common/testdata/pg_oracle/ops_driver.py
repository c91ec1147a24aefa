import os, subprocess, sys, random
random.seed(11)
L = []
def add(tz, op, *args): L.append((tz, op) + tuple(args))
def lit(s): return "'" + s.replace("'", "''") + "'"
def sql_of(op, a):
    T = {
     "ts+iv": "%s::timestamp + %s::interval", "ts-iv": "%s::timestamp - %s::interval",
     "tstz+iv": "%s::timestamptz + %s::interval", "tstz-iv": "%s::timestamptz - %s::interval",
     "ts-ts": "%s::timestamp - %s::timestamp", "tstz-tstz": "%s::timestamptz - %s::timestamptz",
     "date+int": "%s::date + %s::int", "date-date": "%s::date - %s::date", "date+iv": "%s::date + %s::interval",
     "iv+iv": "%s::interval + %s::interval", "iv-iv": "%s::interval - %s::interval", "-iv": "-(%s::interval)",
     "iv*f": "%s::interval * %s::float8", "iv/f": "%s::interval / %s::float8",
     "justify_hours": "justify_hours(%s::interval)", "justify_days": "justify_days(%s::interval)", "justify_interval": "justify_interval(%s::interval)",
     "age": "age(%s::timestamp, %s::timestamp)", "agetz": "age(%s::timestamptz, %s::timestamptz)",
    }
    if op in T:
        return T[op] % tuple(lit(x) for x in a)
    if op == "extract": return "extract(%s from %s::%s)" % (a[0], lit(a[2]), a[1])
    if op == "date_part": return "date_part(%s, %s::%s)" % (lit(a[0]), lit(a[2]), a[1])
    if op == "date_trunc": return "date_trunc(%s, %s::%s)" % (lit(a[0]), lit(a[2]), a[1])
    if op == "cast": return "%s::%s::%s" % (lit(a[2]), a[0], a[1])
    if op == "show": return "%s::%s" % (lit(a[1]), a[0])
    raise Exception(op)
def tzname(sec):
    if sec == 0: return "UTC"
    s = -sec  # POSIX sign
    sign = "-" if s < 0 else "+"
    s = abs(s)
    return "<X>%s%02d:%02d:%02d" % (sign, s//3600, (s//60)%60, s%60)
def esc(s): return s.replace('\\','\\\\').replace('\n','\\n').replace('\t','\\t')

TS = ["2020-01-31 00:00:00","2020-02-29 12:34:56.789","2019-12-31 23:59:59.999999","2000-01-01","1999-03-31 10:00","0044-03-15 12:00 BC","infinity","-infinity","294276-12-31 23:59:59","4714-11-24 00:00 BC","2021-01-01 10:00","2020-12-31","2021-01-03 23:00","2024-02-29 06:07:08.5","1970-01-01","1582-10-10"]
IV = ["1 month","1 mon 1 day","-1 month","1 year","13 months","1 day","-1 day 02:00","25 hours","1 mon -1 day","00:00:00.000001","-00:00:01","1 year 2 mons 3 days 04:05:06.5","300000 years","-1 years -2 mons +3 days","2 mons 30 days 24:00:00","-2 mons 31 days -25:00","P1Y2M3DT4H5M6S","3 mons 1 day 00:00:00.5","0","1.5 months","-1.5 days"]
for t in TS:
    for i in random.sample(IV, 6):
        add(0, "ts+iv", t, i); add(0, "ts-iv", t, i)
for t in TS[:10]:
    for i in random.sample(IV, 4):
        for tz in [0, 19800, -18000, -(9*3600+30*60)]:
            add(tz, "tstz+iv", t, i)
            add(tz, "tstz-iv", t, i)
for a in TS:
    for b in random.sample(TS, 4):
        add(0, "ts-ts", a, b); add(0, "age", a, b)
        add(0, "tstz-tstz", a, b); add(-18000, "agetz", a, b)
D = ["2020-01-01","2020-02-29","infinity","-infinity","5874897-12-31","4714-11-24 BC","2000-01-01","0001-01-01 BC"]
for d in D:
    for n in ["1","-1","365","1000000","2147483647"]:
        add(0, "date+int", d, n)
    for e in random.sample(D, 3):
        add(0, "date-date", d, e)
    for i in random.sample(IV, 3):
        add(0, "date+iv", d, i)
for a in IV:
    for b in random.sample(IV, 3):
        add(0, "iv+iv", a, b); add(0, "iv-iv", a, b)
    add(0, "-iv", a)
    for fct in ["1.5","0.5","-2","3","0.1","1e10","0","0.333","7","1e-7","NaN","2.5"]:
        add(0, "iv*f", a, fct); add(0, "iv/f", a, fct)
    add(0, "justify_hours", a); add(0, "justify_days", a); add(0, "justify_interval", a)
add(0, "iv*f", "2147483647 days", "2"); add(0, "-iv", "-2147483648 days"); add(0, "iv+iv", "2147483647 days", "1 day")
FIELDS = ["microseconds","milliseconds","second","minute","hour","day","week","month","quarter","year","decade","century","millennium","julian","dow","isodow","doy","isoyear","epoch","timezone","timezone_hour","timezone_minute","foo","years","msec","usec","mon","hrs","now"]
for t in TS + ["2021-01-03","2020-12-28","2008-12-29","2010-01-03","0001-01-01","0001-01-01 BC","0002-01-01 BC","0010-06-01 BC","1000-01-01","1001-01-01","2001-01-01"]:
    for fl in FIELDS:
        add(0, "extract", fl, "timestamp", t)
        add(0, "date_part", fl, "timestamp", t)
        add(0, "date_trunc", fl, "timestamp", t)
    for fl in random.sample(FIELDS, 8):
        add(19800, "extract", fl, "timestamptz", t)
        add(-18000, "date_trunc", fl, "timestamptz", t)
        add(-18000, "date_part", fl, "timestamptz", t)
for d in D + ["2021-01-03","2008-12-29"]:
    for fl in FIELDS:
        add(0, "extract", fl, "date", d)
for i in IV:
    for fl in FIELDS:
        add(0, "extract", fl, "interval", i)
        add(0, "date_trunc", fl, "interval", i)
        add(0, "date_part", fl, "interval", i)
for tm in ["12:34:56.789","00:00","24:00:00","23:59:59.999999"]:
    for fl in FIELDS:
        add(0, "extract", fl, "time", tm)
# casts
CASTS = [("int4","int2",["1","32767","32768","-32769"]),("int8","int4",["2147483648","-5"]),("float8","int4",["1.5","2.5","-2.5","-0.5","2147483647.5","2147483646.5","NaN","Infinity","1e10"]),
 ("float8","int8",["9223372036854775807","-9223372036854775808","9.2233720368547748e18","1e19"]),("float4","int2",["32767.5","-32768.4","3.5"]),
 ("numeric","int4",["2.5","-2.5","0.5","-0.5","2147483647.4","2147483647.5","-2147483648.5"]),("numeric","int8",["9223372036854775807.5","1e19"]),("numeric","int2",["32767.49"]),
 ("float8","numeric",["0.1","0.3","1e20","1.5e-7","123456789012345678","1.23456789012345e-20","NaN","Infinity","-0","3.141592653589793","1e-320","2.5e15","9.99999999999999949e14"]),
 ("float4","numeric",["0.1","3.4028235e38","1e-40","1.2345678","16777217"]),("numeric","float8",["0.1","1.00000000000000000001","123456789012345678901234567"]),("numeric","float4",["0.1","1e10","3.5e38"]),
 ("float8","float4",["1e39","1e-50","0.1","-0","3.4028235677973366e38"]),("float4","float8",["0.1","1e-40"]),("int4","bool",["0","1","-5"]),("bool","int4",["t","f"]),
 ("bool","text",["t","f"]),("bool","varchar(2)",["t"]),("bpchar(5)","text",["a","a b"]),("bpchar(5)","varchar(2)",["abc"]),("text","varchar(2)",["abc","a  "]),("text","bpchar(3)",["a","abcd"]),
 ("int8","oid",["-1","4294967295","4294967296","5"]),("int4","oid",["-1","5"]),("oid","int4",["4294967295","5"]),("oid","int8",["4294967295"]),
 ("jsonb","int4",["1","1.5","\"a\"","[1]","null","{}","true","2147483648"]),("jsonb","bool",["true","1"]),("jsonb","float8",["1.5","1e2"]),("jsonb","numeric",["1.50"]),("json","jsonb",['{"b":1, "a":2}']),("jsonb","json",['{"b":1, "a":2}']),("jsonb","text",['{"b":1, "a":2}']),("json","text",[' {"a" : 1} ']),
 ("interval","time",["25 hours","-1 hour","1 day","00:00:00.5"]),("time","interval",["12:34:56"]),
 ("timestamp","date",["2020-06-25 12:00","infinity","0044-03-15 12:00 BC"]),("timestamp","time",["2020-06-25 12:34:56.5"]),("date","timestamp",["2020-06-25","infinity","5874897-12-31","294276-12-31","294277-01-01"]),
 ("float8[]","int4[]",["{1.5,2.5,NULL}"]),("int4[]","text",["{1,2,NULL}"]),("text[]","int4[]",["{1,2}"]),("text","int4[]",["{1,2}"]),("numeric(5,1)[]","numeric(3,0)[]",["{1.5,99.5}"]),
 ("text","bytea",["\\x0102","abc"]),("bytea","text",["\\x0102"]),("uuid","text",["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]),("interval","text",["1 day"]),("int4","text",["-5"]),("float8","text",["0.1","1e20"]),
 ("numeric","numeric(5,2)",["1.005","-1.005","999.999"]),("int4","numeric(3,1)",["99","100"]),("float8","numeric(5,2)",["1.005","2.675"]),("int4","float4",["16777217"]),("int8","float8",["9007199254740993"]),
 ("text","date",["2020-06-25"]),("text","bool",["yes"]),("varchar","name",["abc"]),("text","interval",["1 day"]),("int4","int8",["5"]),("int2","numeric",["-7"]),("int4","date",["1"]),("date","int4",["2020-01-01"]),
]
for f,t,vals in CASTS:
    for v in vals:
        add(0, "cast", f, t, v)
for tz in [-18000, -(9*3600+30*60), 19800, 3600*14, -12*3600, 45*60]:
    for v in ["2020-06-25 12:00:00", "2020-06-25 12:00:00+00", "0044-03-15 12:00 BC", "infinity", "2000-01-01 00:00:00.5+03"]:
        add(tz, "show", "timestamptz", v)
    add(tz, "cast", "timestamp", "timestamptz", "2020-06-25 12:00")
    add(tz, "cast", "timestamptz", "timestamp", "2020-06-25 12:00+00")
    add(tz, "cast", "timestamptz", "date", "2020-06-25 02:00+00")
    add(tz, "cast", "timestamptz", "time", "2020-06-25 02:00+00")
    add(tz, "cast", "date", "timestamptz", "2020-06-25")
    add(tz, "cast", "timestamptz", "text", "2020-06-25 02:00+00")
    add(tz, "show", "timestamptz", "now") if False else None

def riv():
    parts = []
    if random.random()<0.6: parts.append("%d mons" % random.randint(-40,40))
    if random.random()<0.6: parts.append("%d days" % random.randint(-100,100))
    if random.random()<0.7: parts.append("%d:%02d:%02d.%06d" % (random.randint(0,100), random.randint(0,59), random.randint(0,59), random.randint(0,999999)) if random.random()<0.5 else "-%d:%02d:%02d" % (random.randint(0,100), random.randint(0,59), random.randint(0,59)))
    return " ".join(parts) or "0"
def rts():
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (random.randint(1,3000), random.randint(1,12), random.randint(1,28), random.randint(0,23), random.randint(0,59), random.randint(0,59), random.choice([0, random.randint(0,999999)]))
for _ in range(1500):
    a = riv(); fct = random.choice(["%.6g" % random.uniform(-10,10), str(random.randint(-5,5)), "%.3f" % random.uniform(0,2)])
    add(0, "iv*f", a, fct); add(0, "iv/f", a, fct)
    add(0, "justify_interval", a); add(0, "justify_hours", a); add(0, "justify_days", a)
    t1, t2 = rts(), rts()
    add(0, "ts+iv", t1, a); add(0, "age", t1, t2); add(0, "ts-ts", t1, t2)
    tz = random.choice([0, 3600, -7200, 19800, -34200, 50400])
    add(tz, "tstz+iv", t1, a); add(tz, "agetz", t1, t2); add(tz, "show", "timestamptz", t1)
    fl = random.choice(FIELDS[:20])
    add(tz, "extract", fl, "timestamptz", t1); add(0, "date_trunc", fl, "timestamp", t1); add(0, "date_part", fl, "interval", a)
    add(0, "extract", fl, "interval", a); add(0, "date_trunc", fl, "interval", a)
with open("/tmp/ops.tsv","w") as f:
    for row in L:
        f.write("\t".join([str(row[0])] + [esc(x) for x in row[1:]]) + "\n")
setup = r"""
create or replace function pg_eval(tz text, q text) returns text language plpgsql as $f$
declare r text;
begin
  perform set_config('timezone', tz, true);
  execute 'select case when (' || q || ') is null then null else format(''%s'', (' || q || ')) end' into r;
  return 'OK' || chr(9) || replace(replace(replace(coalesce(r,'NULL'), '\', '\\'), chr(10), '\n'), chr(9), '\t');
exception when others then
  return 'ERR' || chr(9) || sqlstate || chr(9) || replace(replace(replace(sqlerrm, '\', '\\'), chr(10), '\n'), chr(9), '\t');
end $f$;
"""
subprocess.run(["psql","-h",os.environ.get("PGHOST","/tmp"),"-p",os.environ.get("PGPORT","54400"),"-U","postgres","-qAtc",setup],check=True)
sql = []
for row in L:
    sql.append("select pg_eval(%s, %s);" % (lit(tzname(row[0])), lit(sql_of(row[1], row[2:]))))
r = subprocess.run(["psql","-h",os.environ.get("PGHOST","/tmp"),"-p",os.environ.get("PGPORT","54400"),"-U","postgres","-qAt","-f","-"],input="\n".join(sql),capture_output=True,text=True)
open("/tmp/ops_pg.txt","w").write(r.stdout)
print(len(L), r.stderr[:500])
