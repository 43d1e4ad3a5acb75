"""Standard gRPC tooling's view of the controller (Debian's python3-grpcio, raw protobuf bytes, nothing generated).

usage: standard_services_client.py CAPFILE MODE [--wrong-secret]
MODE: reflection (lists services through grpc.reflection.v1), health (grpc.health.v1 Check of ""),
      unknown (calls /capcluster.v1.MultiEngine/NoSuchMethod).
prints: {"services": [...]} / {"health": N} / {"ok": true} on success, {"code": "...", "details": "..."} on a refusal.
"""
import json
import sys

import grpc

from getids_client import read_cap
from protobuf_wire import fields


def main():
    location, secret, holder, key, ca = read_cap(sys.argv[1])
    mode = sys.argv[2]
    if "--wrong-secret" in sys.argv:
        secret = "a" * len(secret)
    metadata = (("authorization", "Capability " + secret),)
    credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=holder)
    with grpc.secure_channel(location, credentials) as channel:
        try:
            if mode == "reflection":
                info = channel.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
                # ServerReflectionRequest { string list_services = 7; }
                replies = list(info(iter([b"\x3a\x00"]), metadata=metadata, timeout=20))
                services = []
                for number, value in fields(replies[0]):
                    if number == 6:  # list_services_response { repeated ServiceResponse service = 1; }
                        for _, service in fields(value):
                            services += [name.decode() for n, name in fields(service) if n == 1]
                print(json.dumps({"services": services}))
            elif mode == "health":
                check = channel.unary_unary("/grpc.health.v1.Health/Check")
                reply = check(b"", metadata=metadata, timeout=20)
                print(json.dumps({"health": dict(fields(reply)).get(1, 0)}))
            else:
                channel.unary_unary("/capcluster.v1.MultiEngine/NoSuchMethod")(b"", metadata=metadata, timeout=20)
                print(json.dumps({"ok": True}))
        except grpc.RpcError as error:
            print(json.dumps({"code": error.code().name, "details": error.details()}))


if __name__ == "__main__":
    main()
