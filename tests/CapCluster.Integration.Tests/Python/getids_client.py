"""A standard gRPC client (Debian's python3-grpcio) that uses nothing but a .cap file.

usage: getids_client.py CAPFILE [--no-client-cert]
prints: {"ids": [...]} on success, {"code": "...", "details": "..."} on a refusal.
"""
import json
import re
import sys

import grpc

from protobuf_wire import fields, packed_varints


def read_cap(path):
    text = open(path, encoding="utf-8").read()
    url = next(line for line in text.splitlines() if line.startswith("capcluster://"))
    m = re.match(r"capcluster://([a-z2-7]+)@([^/]+)/([a-z]+)/([a-z2-7]+)$", url)
    if not m:
        raise SystemExit(f"{path}: no capability URL")
    first_location = m.group(2).split(",")[0]
    blocks = [(b.group(1), b.group(0).encode()) for b in re.finditer(r"-----BEGIN ([A-Z ]+)-----.*?-----END \1-----", text, re.S)]
    certificates = [pem for kind, pem in blocks if kind == "CERTIFICATE"]
    key = next(pem for kind, pem in blocks if kind.endswith("PRIVATE KEY"))
    return first_location, m.group(4), certificates[0], key, certificates[-1]


def decode_ids(payload):
    # GetIdsReply { repeated int32 ids = 1; } - packed varints (or unpacked, both are legal).
    ids = []
    for number, value in fields(payload):
        if number != 1:
            raise ValueError(f"unexpected field {number}")
        ids += packed_varints(value) if isinstance(value, bytes) else [value]
    return ids


def main():
    location, secret, holder, key, ca = read_cap(sys.argv[1])
    if "--no-client-cert" in sys.argv:
        credentials = grpc.ssl_channel_credentials(root_certificates=ca)
    else:
        credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=holder)
    with grpc.secure_channel(location, credentials) as channel:
        get_ids = channel.unary_unary("/capcluster.v1.MultiEngine/GetIds")
        try:
            reply = get_ids(b"", metadata=(("authorization", "Capability " + secret),), timeout=20)
        except grpc.RpcError as error:
            print(json.dumps({"code": error.code().name, "details": error.details()}))
            return
        print(json.dumps({"ids": decode_ids(reply)}))


if __name__ == "__main__":
    main()
