# Random UDP, ICMP queries/replies, ICMP errors quoting tracked or untracked flows
# (to either end, from either end or a router), GRE, IPv6: usage SEED COUNT OUT.pcap
import random, sys
from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6DestUnreach, GRE, Raw, wrpcap
R=random.Random(int(sys.argv[1])); n=int(sys.argv[2])
C=["192.168.1.10","192.168.1.11"]; S=["198.51.100.20","198.51.100.21"]; RT="198.51.100.1"
C6="2001:db8:1::10"; S6="2001:db8:ffff::20"
pk=[]; t=1700000000.0
for k in range(n):
    c=R.choice(C); s=R.choice(S); cp=R.choice([5000,5001]); sp=R.choice([53,123])
    c2s=R.random()<0.5
    kind=R.choices(["udp","icmpq","icmpr","err","gre","v6udp","v6echo","v6err","tcpsyn"],[30,10,10,25,5,5,5,5,5])[0]
    a,b=(c,s) if c2s else (s,c)
    if kind=="udp": p=IP(src=a,dst=b)/UDP(sport=cp if c2s else sp,dport=sp if c2s else cp)/Raw(b"u"*8)
    elif kind=="icmpq": p=IP(src=a,dst=b)/ICMP(type=R.choice([8,13,15,17,8]),id=R.randrange(3))
    elif kind=="icmpr": p=IP(src=a,dst=b)/ICMP(type=R.choice([0,14,16,18,0,9,10,40]),id=R.randrange(3))
    elif kind=="tcpsyn": p=IP(src=a,dst=b)/TCP(sport=cp if c2s else sp,dport=sp if c2s else cp,flags=R.choice(["S","SA","A"]),seq=R.randrange(1<<32),ack=R.randrange(1<<32))
    elif kind=="gre": p=IP(src=a,dst=b)/GRE()/Raw(b"g"*8)
    elif kind=="v6udp": p=(IPv6(src=C6,dst=S6)/UDP(sport=7000,dport=53) if c2s else IPv6(src=S6,dst=C6)/UDP(sport=53,dport=7000))/Raw(b"v"*8)
    elif kind=="v6echo": p=IPv6(src=C6,dst=S6)/ICMPv6EchoRequest(id=1) if c2s else IPv6(src=S6,dst=C6)/ICMPv6EchoReply(id=1)
    elif kind=="v6err":
        q=IPv6(src=C6,dst=S6)/UDP(sport=7000,dport=53)/Raw(b"v"*8) if R.random()<0.5 else IPv6(src=S6,dst=C6)/UDP(sport=53,dport=7000)/Raw(b"v"*8)
        p=IPv6(src=R.choice([S6,C6]),dst=R.choice([C6,S6]))/ICMPv6DestUnreach(code=4)/bytes(q)
    else:
        # an ICMP error quoting some packet between random ends, sent to a random end
        qa,qb=R.choice([(c,s),(s,c)])
        inner=R.choice(["udp","tcp","icmp"])
        if inner=="udp": q=IP(src=qa,dst=qb,id=1)/UDP(sport=cp if qa in C else sp,dport=sp if qa in C else cp)/Raw(b"u"*8)
        elif inner=="tcp": q=IP(src=qa,dst=qb,id=1)/TCP(sport=cp if qa in C else sp,dport=sp if qa in C else cp,flags="S",seq=1)
        else: q=IP(src=qa,dst=qb,id=1)/ICMP(type=R.choice([8,0,3]),id=R.randrange(3))
        src=R.choice([qb,RT,qa]); dst=R.choice([qa,qa,qb,R.choice(C+S)])
        p=IP(src=src,dst=dst)/ICMP(type=R.choice([3,11,12,4,5]),code=R.randrange(4))/bytes(q)[:28]
    t+=0.001; e=Ether(src="02:00:00:00:00:01",dst="02:00:00:00:00:02")/p; e.time=t; pk.append(e)
wrpcap(sys.argv[3],pk); print(len(pk))
