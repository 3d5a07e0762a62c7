# pragma version ~=0.4.3
"""
@title TestCallback -- a requestor contract for tests
@notice Records the proofs the market hands it. `mode` 0 accepts, 1 reverts with a reason,
        2 burns all the gas it is given.
"""

event ProofHandled:
    imageId: bytes32
    journal: Bytes[16384]

market: public(address)
mode: public(uint256)
calls: public(uint256)
lastImageId: public(bytes32)
lastJournal: public(Bytes[16384])
lastSealLength: public(uint256)


@deploy
def __init__(market: address):
    self.market = market


@external
def setMode(mode: uint256):
    self.mode = mode


@external
def handleProof(imageId: bytes32, journal: Bytes[16384], seal: Bytes[4096]):
    assert msg.sender == self.market, "NotMarket"
    if self.mode == 1:
        raise "CallbackRejected"
    if self.mode == 2:
        burned: uint256 = 0
        for i: uint256 in range(10**9):
            burned += i
    self.calls += 1
    self.lastImageId = imageId
    self.lastJournal = journal
    self.lastSealLength = len(seal)
    log ProofHandled(imageId=imageId, journal=journal)
