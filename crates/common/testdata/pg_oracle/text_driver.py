import os, subprocess, sys
# Usage: pgdrv.py input output  -- runs each (type, input) through PG's input+output functions.
inp, outp = sys.argv[1], sys.argv[2]
setup = r"""
set timezone='UTC';
create or replace function pg_try(t text, v text) returns text language plpgsql as $f$
declare r text; tm int; tn text; base text; args text;
begin
  if t ~ '^(varchar|bpchar|numeric)\([0-9,]*\)$' then
    base := substring(t from '^([a-z]+)');
    args := substring(t from '\((.*)\)');
    if base = 'numeric' then
      if position(',' in args) > 0 then
        tm := ((split_part(args, ',', 1)::int) << 16 | split_part(args, ',', 2)::int) + 4;
      else
        tm := ((args::int) << 16) + 4;
      end if;
    else
      tm := args::int + 4;
    end if;
    execute format('select format(''%%s'', %s(%L::cstring, 0, %s))', case base when 'numeric' then 'numeric_in' else base || 'in' end, v, tm) into r;
  else
    execute format('select format(''%%s'', %L::%s)', v, t) into r;
  end if;
  return 'OK' || chr(9) || replace(replace(replace(coalesce(r,'NULL'), '\', '\\'), chr(10), '\n'), chr(9), '\t');
exception when others then
  return 'ERR' || chr(9) || sqlstate || chr(9) || replace(replace(replace(sqlerrm, '\', '\\'), chr(10), '\n'), chr(9), '\t');
end $f$;
"""
subprocess.run(["psql","-h",os.environ.get("PGHOST","/tmp"),"-p",os.environ.get("PGPORT","54400"),"-U","postgres","-qAtc",setup],check=True)
lines = open(inp).read().split("\n")
lines = [l for l in lines if l]
def unesc(s):
    out=[];i=0
    while i < len(s):
        c=s[i]
        if c=='\\' and i+1<len(s):
            n=s[i+1]
            if n=='n': out.append('\n'); i+=2; continue
            if n=='t': out.append('\t'); i+=2; continue
            if n=='\\': out.append('\\'); i+=2; continue
        out.append(c); i+=1
    return ''.join(out)
def lit(s):
    return "'" + s.replace("'", "''") + "'"
sql = ["set timezone='UTC';"]
for l in lines:
    t, v = l.split("\t", 1)
    sql.append("select pg_try(%s, %s);" % (lit(t), lit(unesc(v))))
r = subprocess.run(["psql","-h",os.environ.get("PGHOST","/tmp"),"-p",os.environ.get("PGPORT","54400"),"-U","postgres","-qAt","-f","-"],input="\n".join(sql),capture_output=True,text=True)
out = r.stdout
open(outp,"w").write(out)
