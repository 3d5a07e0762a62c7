# pragma version ~=0.4.3
"""
@title TestWallet -- an ERC-1271 smart-contract requestor for tests
@notice Accepts a request digest as signed when its `owner` key signed it (65-byte ECDSA),
        the way a single-owner smart account does; `accept` = False refuses everything.
"""

MAGIC: constant(bytes4) = 0x1626ba7e

owner: public(address)
accept: public(bool)


@deploy
def __init__(owner: address):
    self.owner = owner
    self.accept = True


@external
def setAccept(accept: bool):
    assert msg.sender == self.owner, "NotOwner"
    self.accept = accept


@view
@external
def isValidSignature(digest: bytes32, signature: Bytes[65]) -> bytes4:
    if not self.accept or len(signature) != 65:
        return 0xffffffff
    r: uint256 = convert(extract32(signature, 0), uint256)
    s: uint256 = convert(extract32(signature, 32), uint256)
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    if ecrecover(digest, v, r, s) != self.owner:
        return 0xffffffff
    return MAGIC
