import random, sys, struct
random.seed(int(sys.argv[1]))
out=[]
for _ in range(6000):
    nd = random.randint(1,9)
    d = str(random.randint(1, 10**nd-1))
    e = random.randint(-45, 39)
    out.append(('float4', "%se%d" % (d, e)))
    nd = random.randint(1,17)
    d = str(random.randint(1, 10**nd-1))
    e = random.randint(-320, 308)
    out.append(('float8', "%se%d" % (d, e)))
    # random bit patterns
    b = random.getrandbits(32)
    f = struct.unpack('f', struct.pack('I', b))[0]
    if f == f and abs(f) != float('inf'): out.append(('float4', "%.9g" % f))
    b = random.getrandbits(64)
    f = struct.unpack('d', struct.pack('Q', b))[0]
    if f == f and abs(f) != float('inf'): out.append(('float8', "%.17g" % f))
    # powers of two (asymmetric intervals)
    k = random.randint(-140, 127)
    out.append(('float4', "%.9g" % (2.0**k) if k > -126 else "%.9g" % (2.0**max(k,-149))))
    k = random.randint(-1070, 1023)
    out.append(('float8', "%.17g" % (2.0**k)))
with open('/tmp/corpus.tsv','w') as f:
    for t,v in out: f.write(t+'\t'+v+'\n')
