"""The MD5 digests SQS returns for message bodies and attributes, computed as AWS documents them.

Attributes are digested sorted by name; each contributes its name, data type and value, each
encoded as a 4-byte big-endian length followed by the bytes, with a transport byte (1 for
String/Number, 2 for Binary) between the data type and the value.
"""

from __future__ import annotations

import hashlib
import struct


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_attributes(attributes: dict) -> str:
    digest = hashlib.md5()
    for name in sorted(attributes):
        attribute = attributes[name]
        data_type = attribute["DataType"]
        digest.update(_length_prefixed(name.encode("utf-8")))
        digest.update(_length_prefixed(data_type.encode("utf-8")))
        if "BinaryValue" in attribute:
            value = attribute["BinaryValue"]
            if isinstance(value, str):
                value = value.encode("utf-8")
            digest.update(b"\x02" + _length_prefixed(value))
        else:
            digest.update(b"\x01" + _length_prefixed(attribute["StringValue"].encode("utf-8")))
    return digest.hexdigest()
