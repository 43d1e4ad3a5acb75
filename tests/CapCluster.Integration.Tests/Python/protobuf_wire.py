"""Just enough of the protobuf wire format to read replies without generated code."""


def varint(payload, i):
    """The varint at payload[i:] and the index after it."""
    shift = value = 0
    while True:
        b = payload[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def fields(payload):
    """(field number, value) of a message: ints for varints, bytes for length-delimited fields."""
    i = 0
    while i < len(payload):
        tag, i = varint(payload, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = varint(payload, i)
            yield number, value
        elif wire == 2:
            length, i = varint(payload, i)
            yield number, payload[i:i + length]
            i += length
        else:
            raise ValueError(f"unexpected wire type {wire}")


def packed_varints(payload):
    """The varints of a packed repeated field."""
    i = 0
    while i < len(payload):
        value, i = varint(payload, i)
        yield value
