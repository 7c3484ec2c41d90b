# pcap for the relay suite: a PCMU stream file for SIPp's play_pcap_audio, and dumpcap on lo
# with a reader for what it recorded (python3 stdlib only).
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import sipharness as h


def write_pcmu_pcap(path, packets, ptime_ms=20):
    """Ethernet/IPv4/UDP/RTP PCMU, 160-byte payloads every ptime_ms (SIPp rewrites addresses,
    ports and the UDP checksum when it plays the file)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    for i in range(packets):
        rtp = struct.pack("!BBHII", 0x80, 0, i + 1, i * 160, 0x12345678) + bytes([0xFF]) * 160
        udp = struct.pack("!HHHH", 5000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, src, dst)
        frame = bytes(12) + b"\x08\x00" + ip + udp
        usec = i * ptime_ms * 1000
        out.append(struct.pack("<IIII", 1_000_000_000 + usec // 1_000_000, usec % 1_000_000,
                               len(frame), len(frame)) + frame)
    Path(path).write_bytes(b"".join(out))


def read_pcap_udp(path):
    """[(src_ip, sport, dst_ip, dport, udp_payload_len)] of the IPv4/UDP frames of a classic
    pcap (Ethernet or Linux cooked link type)."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    l2 = {1: 14, 113: 16, 276: 20}.get(linktype)
    if l2 is None:
        raise ValueError(f"pcap link type {linktype} not handled")
    out, i = [], 24
    while i + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[i + 8:i + 12])[0]
        frame = data[i + 16:i + 16 + caplen]
        i += 16 + caplen
        ip = frame[l2:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
        out.append((socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport, ulen - 8))
    return out


class Capture:
    """dumpcap on lo with a capture filter, classic pcap, stopped by PID with SIGINT."""

    def __init__(self, path, bpf, log_path):
        self.path = Path(path)
        self.log_path = Path(log_path)
        self.cmd = ["dumpcap", "-q", "-i", "lo", "-P", "-s", "96", "-f", bpf, "-w", str(self.path)]
        self.proc = None

    def start(self, timeout_s=10.0):
        self._log = open(self.log_path, "wb")
        self.proc = h.spawn(self.cmd, self._log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:  # dumpcap says so on stderr once it captures
            if self.proc.poll() is not None:
                return False
            if b"Capturing on" in self.log_path.read_bytes():
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                h.kill_group(self.proc)
                self.proc.wait()
        self._log.close()
        self.proc = None

    def packets(self):
        return read_pcap_udp(self.path)
