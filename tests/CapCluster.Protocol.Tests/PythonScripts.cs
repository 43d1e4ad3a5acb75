namespace CapCluster.Protocol.Tests;

/// <summary>The python3-grpcio programs the interop tests run. Messages are Pong bytes built by hand.</summary>
internal static class PythonScripts
{
    private const string Codec = """
        import sys, os, json, grpc

        def varint(n):
            out = b''
            n &= (1 << 64) - 1
            while True:
                b = n & 0x7F
                n >>= 7
                if n:
                    out += bytes([b | 0x80])
                else:
                    return out + bytes([b])

        def enc(payload, eid):
            out = b''
            if payload:
                out += b'\x0a' + varint(len(payload)) + payload
            if eid:
                out += b'\x10' + varint(eid)
            return out

        def read_varint(b, i):
            shift = 0
            value = 0
            while True:
                c = b[i]
                i += 1
                value |= (c & 0x7F) << shift
                shift += 7
                if not c & 0x80:
                    return value, i

        def dec(b):
            i = 0
            payload = b''
            eid = 0
            while i < len(b):
                tag, i = read_varint(b, i)
                if tag == 0x0a:
                    n, i = read_varint(b, i)
                    payload = b[i:i + n]
                    i += n
                elif tag == 0x10:
                    eid, i = read_varint(b, i)
                else:
                    raise ValueError('unexpected tag %d' % tag)
            return payload, eid

        d = sys.argv[1]
        def pem(name):
            with open(os.path.join(d, name), 'rb') as f:
                return f.read()

        ident = lambda b: b

        """;

    /// <summary>A python client calling our server: unary, duplex, a refused call and an unknown method.</summary>
    public const string Client = Codec + """
        port = sys.argv[2]
        creds = grpc.ssl_channel_credentials(root_certificates=pem('ca.pem'), private_key=pem('key.pem'), certificate_chain=pem('cert.pem'))
        channel = grpc.secure_channel('127.0.0.1:' + port, creds, options=[('grpc.enable_http_proxy', 0)])
        good = [('authorization', 'Capability good')]
        ping = channel.unary_unary('/capcluster.v1.MultiEngine/Ping', request_serializer=ident, response_deserializer=ident)
        chat = channel.stream_stream('/capcluster.v1.MultiEngine/PingStream', request_serializer=ident, response_deserializer=ident)
        missing = channel.unary_unary('/capcluster.v1.MultiEngine/Nope', request_serializer=ident, response_deserializer=ident)
        out = {}
        p, i = dec(ping(enc(b'hello', 41), metadata=good, timeout=20))
        out['unary'] = {'payload': p.decode(), 'id': i}
        out['bidi'] = [dec(r)[1] for r in chat(iter([enc(b'x', i) for i in range(100)]), metadata=good, timeout=20)]
        try:
            ping(enc(b'', 1), metadata=[('authorization', 'Capability bad')], timeout=20)
            out['refused'] = None
        except grpc.RpcError as e:
            out['refused'] = {'code': e.code().name, 'details': e.details()}
        try:
            missing(enc(b'', 1), metadata=good, timeout=20)
            out['missing'] = None
        except grpc.RpcError as e:
            out['missing'] = {'code': e.code().name, 'details': e.details()}
        print(json.dumps(out))
        """;

    /// <summary>A python server our channel calls: prints its port, serves until stdin closes.</summary>
    public const string Server = Codec + """
        from concurrent import futures

        def ping(request, context):
            p, i = dec(request)
            meta = dict(context.invocation_metadata())
            return enc(p + b'|' + meta.get('authorization', '').encode(), i + 1)

        def ping_many(request, context):
            p, n = dec(request)
            for i in range(n):
                yield enc(b'', i)

        def ping_fail(request, context):
            context.abort(grpc.StatusCode.NOT_FOUND, 'no engine 7 \u2014 it left (100%)')

        handlers = {
            'Ping': grpc.unary_unary_rpc_method_handler(ping),
            'PingMany': grpc.unary_stream_rpc_method_handler(ping_many),
            'PingFail': grpc.unary_unary_rpc_method_handler(ping_fail),
        }
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler('capcluster.v1.MultiEngine', handlers),))
        creds = grpc.ssl_server_credentials([(pem('key.pem'), pem('cert.pem'))], root_certificates=pem('ca.pem'), require_client_auth=True)
        port = server.add_secure_port('127.0.0.1:0', creds)
        server.start()
        print(port, flush=True)
        sys.stdin.read()
        server.stop(0)
        """;
}
