#!/usr/bin/env python3
"""Send hand-built probes with forged source addresses from inside a lab namespace (test/helpers/spoof.ts).

Frames go out through an AF_PACKET socket on one interface, so the kernel neither picks the source address nor
routes them: they reach only the peer of that link. On "lo" (probes from the host's own addresses, to itself),
IPv4 goes through a raw IP socket instead: the kernel refuses a frame injected with a local source address as a
martian, while its own output path marks the packet as local.

Usage: spoof-send.py IFACE DST_MAC PPS MAX_SECONDS, then one probe a line on stdin: "SRC DST tcp FLAGS DPORT"
or "SRC DST udp 0 DPORT". Stops at the end of input or after MAX_SECONDS, whichever comes first, sending at most
PPS packets a second; prints the number sent on stdout.
"""
import ipaddress
import socket
import struct
import sys
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def l4(proto: str, flags: int, sport: int, dport: int, pseudo: bytes) -> bytes:
    if proto == 'tcp':
        hdr = struct.pack('!HHIIBBHHH', sport, dport, 0x1000 + sport, 0, 0x50, flags, 1024, 0, 0)
    else:
        hdr = struct.pack('!HHHH', sport, dport, 8, 0)
    c = checksum(pseudo + hdr)
    if proto == 'udp' and c == 0:
        c = 0xffff
    return hdr[:16] + struct.pack('!H', c) + hdr[18:] if proto == 'tcp' else hdr[:6] + struct.pack('!H', c)


def packet(src: str, dst: str, proto: str, flags: int, dport: int, n: int) -> tuple[int, bytes]:
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    pnum = 6 if proto == 'tcp' else 17
    length = 20 if proto == 'tcp' else 8
    sport = 20000 + n % 40000
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack('!BBH', 0, pnum, length)
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + length, n & 0xffff, 0, 64, pnum, 0, s.packed, d.packed)
        ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
        return 0x0800, ip + l4(proto, flags, sport, dport, pseudo)
    pseudo = s.packed + d.packed + struct.pack('!IxxxB', length, pnum)
    ip = struct.pack('!IHBB16s16s', 6 << 28, length, pnum, 64, s.packed, d.packed)
    return 0x86dd, ip + l4(proto, flags, sport, dport, pseudo)


def main() -> int:
    iface, dst_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
    pps, max_s = float(sys.argv[3]), float(sys.argv[4])
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    src_mac = sock.getsockname()[4][:6].ljust(6, b'\0')
    ip4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) if iface == 'lo' else None
    start = time.monotonic()
    sent = 0
    for line in sys.stdin:
        f = line.split()
        if len(f) != 5:
            continue
        now = time.monotonic()
        if now - start > max_s:
            break
        due = start + sent / pps
        if due > now:
            time.sleep(due - now)
        etype, body = packet(f[0], f[1], f[2], int(f[3]), int(f[4]), sent)
        frame = dst_mac + src_mac + struct.pack('!H', etype) + body
        try:
            if ip4 is not None and etype == 0x0800:
                ip4.sendto(body, (f[1], 0))
            else:
                sock.send(frame)
            sent += 1
        except OSError as e:  # a full device queue: count it as not sent and go on
            print('send failed: %s' % e, file=sys.stderr)
    print(sent)
    return 0


if __name__ == '__main__':
    sys.exit(main())
