import random, sys
random.seed(int(sys.argv[1]))
jt = ['{','}','[',']',',',':','"a"','"b"','"\\n"','"\\u00e9"','"\\ud83d\\ude00"','"\\x"','1','-1','1.5','1e5','-0','01','1.','true','false','null','nul',' ','  ','"',"\\",'"k":','{"a":1}','[1,2]','"\\u0000"','1E+2','.5','tru','x','"é"']
at = ['{','}',',','"','\\','a','b',' ','NULL','null','1','-2','x y','""','"a,b"','{1,2}','{}','\\"','\\\\','\t','é']
nt = ['0','1','9','.','-','+','e','E',' ','5','00','12','inf','nan','x']
bt = ['\\x','\\X','0','1','a','f','F','g',' ','\\','\\\\','\\001','\\377','\\400','x','z']
out=[]
for _ in range(3000):
    s = ''.join(random.choice(jt) for _ in range(random.randint(1,7)))
    out.append(('json', s)); out.append(('jsonb', s))
    a = ''.join(random.choice(at) for _ in range(random.randint(1,8)))
    out.append(('text[]', a)); out.append(('int4[]', a))
    n = ''.join(random.choice(nt) for _ in range(random.randint(1,6)))
    for t in ['int4','int8','float8','float4','numeric','numeric(6,2)','oid','bool']:
        out.append((t, n))
    b = ''.join(random.choice(bt) for _ in range(random.randint(1,6)))
    out.append(('bytea', b))
def esc(s): return s.replace('\\','\\\\').replace('\n','\\n').replace('\t','\\t')
with open('/tmp/corpus.tsv','w') as f:
    for t,v in out: f.write(t+'\t'+esc(v)+'\n')
