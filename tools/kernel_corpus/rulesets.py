"""nftables rulesets used by the hand-written kernel-corpus scenarios.

Every ruleset is a complete file for `nft -f` (starts with `flush ruleset`).
"""

HOME = """
#!/usr/sbin/nft -f
# home router: the same policy as rules/home.nft
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
	}

	chain output {
		type filter hook output priority filter; policy accept;
	}
}

table inet nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
"""

# home router that masquerades IPv4 only (IPv6 is routed, as most ISPs do it)
HOME_NAT4 = HOME.replace('oifname "wan0" masquerade',
                         'meta nfproto ipv4 oifname "wan0" masquerade')

# stateful, routed (no NAT), with `ct state invalid drop`
ROUTED_DROP_INVALID = """
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
	}
}
"""

# same without the invalid rule: invalid packets fall through to later rules
ROUTED_KEEP_INVALID = """
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" accept
	}
}
"""

# accept everything, only count by state: shows conntrack's view untouched
PERMISSIVE = """
flush ruleset

table inet filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state invalid counter
		ct state new counter
	}
}
"""

DNAT_PORT_FORWARD = """
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		ct status dnat accept
		iifname "lan0" accept
	}
}

table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan0" tcp dport 8080 dnat to 192.168.1.20:80
		iifname "wan0" udp dport 5000-5010 dnat to 192.168.1.21
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}

table ip6 nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan0" tcp dport 8080 dnat to [2001:db8:1::20]:80
	}
}
"""

HAIRPIN = """
flush ruleset

table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		ct status dnat accept
		iifname "lan0" oifname "wan0" accept
	}
}

table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 203.0.113.1 tcp dport 8080 dnat to 192.168.1.20:80
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
		oifname "lan0" ip saddr 192.168.1.0/24 ct status dnat masquerade
	}
}
"""

REDIRECT = """
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" tcp dport 3128 accept
		iifname "lan0" udp dport 5353 accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" accept
	}
}

table inet nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "lan0" tcp dport 80 redirect to :3128
		iifname "lan0" udp dport 53 redirect to :5353
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		meta nfproto ipv4 oifname "wan0" masquerade
	}
}
"""

NAT66 = """
flush ruleset

table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
	}
}

table ip6 nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" ip6 saddr fd00:1::/64 masquerade
	}
}

table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
"""

SNAT_EXPLICIT = """
flush ruleset

table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
	}
}

table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" ip saddr 192.168.1.10 snat to 203.0.113.5
		oifname "wan0" masquerade
	}
}
"""

REJECT = """
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		tcp dport 22 reject with tcp reset
		udp dport 161 reject
		iifname "lan0" accept
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state invalid drop
		ct state established,related accept
		tcp dport 23 reject with tcp reset
		udp dport 69 reject
		meta l4proto icmp icmp type echo-request ip daddr 198.51.100.99 reject with icmp type host-prohibited
		meta l4proto ipv6-icmp icmpv6 type echo-request ip6 daddr 2001:db8:beef::99 reject with icmpv6 type admin-prohibited
		tcp dport 25 reject with icmpx type admin-prohibited
		iifname "wan0" drop
	}
}
"""

JUMP_GOTO_SETS = """
flush ruleset

table inet filter {
	set blocked4 {
		type ipv4_addr
		flags interval
		elements = { 198.51.100.128/25, 192.0.2.7 }
	}

	set web_ports {
		type inet_service
		elements = { 80, 443, 8443 }
	}

	set blocked6 {
		type ipv6_addr
		elements = { 2001:db8:bad::1 }
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" jump lan_in
	}

	chain lan_in {
		tcp dport { 22, 53 } accept
		udp dport 53 accept
		icmp type echo-request accept
		icmpv6 type echo-request accept
		return
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state vmap { established : accept, related : accept }
		iifname vmap { "lan0" : jump from_lan, "wan0" : goto from_wan }
		counter comment "only packets not decided by from_lan reach this"
	}

	chain from_lan {
		ip daddr @blocked4 drop
		ip6 daddr @blocked6 drop
		tcp dport @web_ports accept
		meta l4proto udp udp dport 53 accept
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport 22 goto ssh_out
	}

	chain ssh_out {
		ip daddr 198.51.100.22 accept
		drop
	}

	chain from_wan {
		tcp dport vmap { 80 : accept, 443 : accept, 25 : drop }
		return
	}
}
"""

PRIORITIES = """
flush ruleset

table inet early {
	chain forward {
		type filter hook forward priority -10; policy accept;
		tcp dport 6666 drop
		tcp dport 7000 accept
		udp dport 9999 accept
	}
}

table inet late {
	chain forward {
		type filter hook forward priority 10; policy drop;
		ct state established,related accept
		tcp dport { 80, 6666 } accept
		udp dport 53 accept
	}

	chain prerouting {
		type filter hook prerouting priority -150; policy accept;
		ip saddr 192.0.2.66 drop
		ip6 saddr 2001:db8:bad::66 drop
	}
}

table inet mid {
	chain forward {
		type filter hook forward priority filter; policy accept;
		udp dport 9999 drop
	}
}
"""

LIMIT = """
flush ruleset

table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		icmp type echo-request limit rate 1/minute burst 3 packets accept
		icmpv6 type echo-request limit rate 1/minute burst 2 packets accept
		udp dport 514 limit rate over 1/minute burst 4 packets drop
		udp dport 514 accept
		ct state established,related accept
	}
}
"""

DMZ = """
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" tcp dport 22 accept
		meta l4proto { icmp, ipv6-icmp } iifname { "lan0", "dmz0" } accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" oifname { "wan0", "dmz0" } accept
		iifname "dmz0" oifname "wan0" tcp dport { 80, 443 } accept
		iifname "dmz0" oifname "wan0" udp dport 53 accept
		iifname "wan0" oifname "dmz0" ip daddr 10.0.2.10 tcp dport { 80, 443 } accept
		iifname "wan0" oifname "dmz0" ip6 daddr 2001:db8:2::10 tcp dport { 80, 443 } accept
	}
}

table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" ip saddr 192.168.1.0/24 masquerade
	}
}
"""

CT_MARK_NOTRACK = """
flush ruleset

table inet raw {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		udp dport 123 notrack
		udp sport 123 notrack
	}
}

table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state untracked accept
		ct mark 0x2 drop
		ct state established,related accept
		iifname "lan0" tcp dport 8888 ct mark set 0x2 accept
		iifname "lan0" ct mark set 0x1 accept
	}
}
"""

STATELESS = """
flush ruleset

table ip filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		iifname "lan0" udp dport 53 accept
		iifname "wan0" udp sport 53 accept
		ip protocol icmp accept
	}
}
"""

INPUT_SERVICES = """
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iif "lo" accept
		iifname "lan0" tcp dport { 22, 53 } accept
		iifname "lan0" udp dport { 53, 67 } accept
		icmp type echo-request accept
		icmpv6 type echo-request accept
		iifname "wan0" tcp dport 443 ip saddr 198.51.100.0/24 accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
	}
}
"""

# common hardening idioms: flag checks, new-but-not-SYN, connection count
# limits, meta mark and log
HARDENING = """
flush ruleset

table inet filter {
	chain prerouting {
		type filter hook prerouting priority -150; policy accept;
		tcp flags & (fin|syn) == (fin|syn) drop
		tcp flags & (syn|rst) == (syn|rst) drop
		tcp flags == 0x0 drop
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		ct state new tcp flags & (syn|ack) != syn log prefix "not-syn " drop
		iifname "wan0" tcp dport 80 ct count over 2 drop
		iifname "wan0" tcp dport 80 meta mark set 0x10 accept
		iifname "lan0" accept
	}
}
"""

# a dynamic blocklist fed by a trap port (set updated from the packet path)
DYNAMIC_SET = """
flush ruleset

table inet filter {
	set trapped4 {
		type ipv4_addr
		flags dynamic,timeout
		timeout 1h
	}

	chain prerouting {
		type filter hook prerouting priority -150; policy accept;
		ip saddr @trapped4 drop
		iifname "wan0" tcp dport 2323 add @trapped4 { ip saddr } drop
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "wan0" tcp dport 80 accept
		iifname "lan0" accept
	}
}
"""
