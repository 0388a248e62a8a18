"""Writes the gzip fixtures of GzipMembersTest with Python's gzip and zlib modules and checks them with gzip(1).

Run from this directory: python3 make_fixtures.py (Python 3.8 or later; gzip 1.6 or later on the PATH).

trace.json                 a vLLM trace of 3 steps of 2 layers x 3 experts, the payload of every file below
members.json.gz            trace.json cut in three, each part a member written by gzip.GzipFile (with a file name,
                           at compression levels 1, 0 and 9), with an empty member between the second and third
header-fields.json.gz      one member whose header has every optional field: FTEXT, FHCRC (a correct CRC-16),
                           FEXTRA (one subfield, 300 bytes), FNAME and FCOMMENT, built by hand around zlib's raw deflate
bad-header-crc.json.gz     the same with its header CRC-16 off by one: gzip(1) refuses it, Python's gzip reads it
reserved-flag.json.gz      one member with reserved flag bit 5 set (RFC 1952 2.3.1.2: a decompressor must refuse
                           it, a new field could follow): gzip(1) refuses it, Python's gzip reads it
"""
import gzip
import io
import struct
import subprocess
import zlib

TRACE = (b'{"load_history": [\n'
         b'  {"logical_expert_load": [[3, 0, 5], [1, 2, 3]]},\n'
         b'  {"logical_expert_load": [[4, 1, 0], [0, 0, 7]]},\n'
         b'  {"logical_expert_load": [[2, 2, 2], [9, 0, 1]]}\n'
         b']}\n')

FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT = 1, 2, 4, 8, 16


def member(data, name, level):
    out = io.BytesIO()
    with gzip.GzipFile(filename=name, mode='wb', fileobj=out, compresslevel=level, mtime=1700000000) as f:
        f.write(data)
    return out.getvalue()


def raw_deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def hand_member(data, flags, extra=b'', name=b'', comment=b'', header_crc_delta=0):
    header = b'\x1f\x8b\x08' + bytes([flags]) + struct.pack('<I', 1700000000) + b'\x02\x03'
    if flags & FEXTRA:
        header += struct.pack('<H', len(extra)) + extra
    if flags & FNAME:
        header += name + b'\x00'
    if flags & FCOMMENT:
        header += comment + b'\x00'
    if flags & FHCRC:
        header += struct.pack('<H', (zlib.crc32(header) + header_crc_delta) & 0xffff)
    return header + raw_deflate(data) + struct.pack('<II', zlib.crc32(data), len(data))


def gzip_cli_accepts(path):
    return subprocess.run(['gzip', '-t', path], capture_output=True).returncode == 0


def main():
    with open('trace.json', 'wb') as f:
        f.write(TRACE)
    a, b = 40, 100
    members = (member(TRACE[:a], 'part1.json', 1) + member(TRACE[a:b], 'part2.json', 0) + member(b'', 'empty', 6)
               + member(TRACE[b:], 'part3.json', 9))
    # A subfield 'mo' of 296 bytes (XLEN 300: both of its bytes count), then a name and a comment of Latin-1
    # text as RFC 1952 has them.
    extra = b'mo' + struct.pack('<H', 296) + bytes(range(256)) + bytes(40)
    flags = FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT
    fields = hand_member(TRACE, flags, extra, b'trace.json', b'caf\xe9 \x01 comment')
    bad_crc = hand_member(TRACE, flags, extra, b'trace.json', b'caf\xe9 \x01 comment', header_crc_delta=1)
    reserved = hand_member(TRACE, 0x20)
    files = {'members.json.gz': members, 'header-fields.json.gz': fields, 'bad-header-crc.json.gz': bad_crc,
             'reserved-flag.json.gz': reserved}
    for name, content in files.items():
        with open(name, 'wb') as f:
            f.write(content)
        assert gzip.decompress(content) == TRACE, name
    assert gzip_cli_accepts('members.json.gz') and gzip_cli_accepts('header-fields.json.gz')
    assert not gzip_cli_accepts('bad-header-crc.json.gz') and not gzip_cli_accepts('reserved-flag.json.gz')


if __name__ == '__main__':
    main()
