import random, json, sys
from scapy.all import Ether, IP, TCP, Raw, wrpcap
seed=int(sys.argv[1]); n=int(sys.argv[2]); out=sys.argv[3]
R=random.Random(seed)
C="192.168.1.10"; S="198.51.100.20"
conns=[{"cp":20000+i, "next":[R.randrange(1<<32), R.randrange(1<<32)]} for i in range(6)]
pk=[]; t=1700000000.0
for k in range(n):
    c=R.choice(conns); d=R.randrange(2)  # 0 client->server, 1 server->client
    me=c["next"][d]; other=c["next"][1-d]
    kind=R.choices(["syn","synack","ack","data","fin","rst","rstack","none"],[8,8,30,25,8,5,5,1])[0]
    seq=me; ack=other
    j=R.random()
    if j<0.08: seq=(me+R.choice([-1,1])*R.randrange(1,200000))&0xffffffff
    elif j<0.12: seq=R.randrange(1<<32)
    if R.random()<0.06: ack=(other+R.choice([-1,1])*R.randrange(1,100000))&0xffffffff
    flags={"syn":"S","synack":"SA","ack":"A","data":"PA","fin":"FA","rst":"R","rstack":"RA","none":""}[kind]
    if kind in("syn","synack") and R.random()<0.5: seq=R.randrange(1<<32)
    if kind=="rst" and R.random()<0.3: seq=0
    length=R.randrange(1,1400) if kind=="data" else 0
    win=R.choice([65535,65535,29200,1024,0,512])
    opts=[]
    if kind in("syn","synack"):
        if R.random()<0.5: opts.append(("WScale",R.randrange(0,15)))
        if R.random()<0.5: opts.append(("SAckOK",b""))
    elif R.random()<0.1:
        l=(other-R.randrange(0,3000))&0xffffffff; opts.append(("SAck",(l,(l+R.randrange(1,3000))&0xffffffff)))
    src,dst,sp,dp=(C,S,c["cp"],80) if d==0 else (S,C,80,c["cp"])
    p=IP(src=src,dst=dst,id=k+1)/TCP(sport=sp,dport=dp,flags=flags,seq=seq,ack=ack if "A" in flags else (0 if R.random()<0.7 else ack),window=win,options=opts)
    if length: _=bytes(R.randrange(256) for _ in range(length)); p=p/Raw(bytes(length))
    # the sender's idea of its next seq moves on (even for packets that will be dropped as invalid)
    adv=length+(1 if kind in("syn","synack","fin") else 0)
    if seq==me or R.random()<0.3: c["next"][d]=(seq+adv)&0xffffffff
    t+=0.001; e=Ether(src="02:00:00:00:00:01",dst="02:00:00:00:00:02")/p; e.time=t; pk.append(e)
wrpcap(out,pk); print(len(pk))  # usage: gen_kernel_ct_random.py SEED COUNT OUT.pcap
