"""Building guests with the bundled zig clang: flags, layout, errors, example cache, CLI."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile
from typer.testing import CliRunner

from proofmarket.cli.main import app
from proofmarket.zkvm import guests
from proofmarket.zkvm.guests import (
    UnknownGuestError,
    build_key,
    example_elf,
    example_elf_path,
    example_names,
    example_source,
)
from proofmarket.zkvm.toolchain import GUEST_SDK_DIR, GuestBuildError, build_guest

# RV32I base opcodes (the M extension shares OP 0x33). Anything else (compressed
# instructions, atomics 0x2F, floating point 0x07/0x27/0x43.., CSR use aside) must not appear.
RV32IM_OPCODES = {0x03, 0x0F, 0x13, 0x17, 0x23, 0x33, 0x37, 0x63, 0x67, 0x6F, 0x73}
USER_START, USER_END = 0x0001_0000, 0xC000_0000


def _elf(path: Path) -> ELFFile:
    return ELFFile(path.open("rb"))


def _symbols(elf: ELFFile) -> dict[str, int]:
    symtab = elf.get_section_by_name(".symtab")
    assert symtab is not None
    return {sym.name: sym["st_value"] for sym in symtab.iter_symbols() if sym.name}


def test_example_names() -> None:
    assert example_names() == ["fib", "iter", "panic", "sha256"]
    with pytest.raises(UnknownGuestError, match="unknown example guest 'nope'"):
        example_source("nope")
    with pytest.raises(UnknownGuestError, match="available: fib"):
        example_elf("nope")


def test_example_elf_layout() -> None:
    path = example_elf_path("fib")
    elf = _elf(path)
    assert elf.elfclass == 32
    assert elf.little_endian
    assert elf["e_machine"] == "EM_RISCV"
    assert elf["e_type"] == "ET_EXEC"
    assert elf["e_flags"] & 0x1 == 0, "RVC (compressed) flag must be clear"
    assert elf["e_entry"] == 0x0020_0800
    symbols = _symbols(elf)
    assert symbols["_start"] == 0x0020_0800
    assert symbols["__stack_top"] == 0x0020_0400
    assert symbols["__bss_start"] <= symbols["__bss_end"] <= symbols["_end"]
    assert "__global_pointer$" in symbols
    loads = [seg for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
    assert loads
    for seg in loads:
        assert seg["p_vaddr"] >= USER_START
        assert seg["p_vaddr"] + seg["p_memsz"] <= USER_END
        assert seg["p_vaddr"] >= 0x0020_0800, "ELF headers must not be loaded below .text"
    assert any(seg["p_flags"] & P_FLAGS.PF_X for seg in loads)
    for name in (".eh_frame", ".comment", ".riscv.attributes"):
        assert elf.get_section_by_name(name) is None


@pytest.mark.parametrize("name", ["fib", "iter", "panic", "sha256"])
def test_examples_use_only_rv32im_instructions(name: str) -> None:
    elf = _elf(example_elf_path(name))
    text = elf.get_section_by_name(".text")
    assert text is not None
    code = text.data()
    assert len(code) % 4 == 0
    for offset in range(0, len(code), 4):
        word = int.from_bytes(code[offset : offset + 4], "little")
        assert word & 0x3 == 0x3, f"compressed instruction at +0x{offset:x}"
        assert word & 0x7F in RV32IM_OPCODES, f"non-RV32IM opcode 0x{word:08x} at +0x{offset:x}"


def test_64_bit_arithmetic_links_compiler_rt(tmp_path: Path) -> None:
    source = tmp_path / "div64.c"
    source.write_text(
        '#include "proofmarket.h"\n'
        "int main(void) {\n"
        "    uint64_t a = ((uint64_t)pm_input_len() << 40) | 12345;\n"
        "    uint64_t b = (uint64_t)pm_cycle_count() + 3;\n"
        "    int64_t c = -(int64_t)a;\n"
        "    uint64_t out[3] = {a / b, a % b, (uint64_t)(c / (int64_t)b)};\n"
        "    pm_commit(out, sizeof out);\n"
        "    return (int)(c % 7);\n"
        "}\n"
    )
    path = build_guest([source], tmp_path / "div64.elf")
    symbols = _symbols(_elf(path))
    assert "__udivdi3" in symbols
    assert "__divdi3" in symbols


def test_build_error_carries_compiler_message(tmp_path: Path) -> None:
    source = tmp_path / "broken.c"
    source.write_text("int main(void) { return undefined_name; }\n")
    with pytest.raises(GuestBuildError) as info:
        build_guest([source], tmp_path / "broken.elf")
    assert "undefined_name" in str(info.value)
    assert "broken.c" in str(info.value)
    assert not (tmp_path / "broken.elf").exists()
    assert not list(tmp_path.glob(".broken.elf.*")), "temporary output left behind"


def test_link_error_names_symbol(tmp_path: Path) -> None:
    source = tmp_path / "unlinked.c"
    source.write_text(
        "void missing_function(void);\nint main(void) { missing_function(); return 0; }\n"
    )
    with pytest.raises(GuestBuildError, match="missing_function"):
        build_guest([source], tmp_path / "unlinked.elf")


def test_build_input_errors(tmp_path: Path) -> None:
    good = tmp_path / "ok.c"
    good.write_text("int main(void) { return 0; }\n")
    with pytest.raises(GuestBuildError, match="not found"):
        build_guest([tmp_path / "absent.c"], tmp_path / "x.elf")
    with pytest.raises(GuestBuildError, match="not a C or assembly source"):
        build_guest([tmp_path / "notes.txt"], tmp_path / "x.elf")
    with pytest.raises(GuestBuildError, match="unsupported optimisation level"):
        build_guest([good], tmp_path / "x.elf", opt="-O9")
    with pytest.raises(GuestBuildError, match="no guest sources"):
        build_guest([], tmp_path / "x.elf")


def test_multi_file_build(tmp_path: Path) -> None:
    (tmp_path / "helper.c").write_text("unsigned twice(unsigned x) { return 2 * x; }\n")
    (tmp_path / "main.c").write_text(
        '#include "proofmarket.h"\nunsigned twice(unsigned);\n'
        "int main(void) { pm_commit_u32(twice(pm_read_u32())); return 0; }\n"
    )
    out = build_guest([tmp_path / "main.c", tmp_path / "helper.c"], tmp_path / "out" / "g.elf")
    assert "twice" in _symbols(_elf(out))


def test_example_cache_dir_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROOFMARKET_CACHE_DIR", str(tmp_path))
    path = example_elf_path("fib")
    assert path.parent == tmp_path / "guests"
    assert build_key("fib")[:24] in path.name
    assert build_key("fib") != build_key("iter")
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    assert example_elf_path("fib") == path
    assert path.stat().st_mtime_ns == mtime, "a cached ELF must not be rebuilt"
    assert first[:4] == b"\x7fELF"


def test_concurrent_example_builds_are_safe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROOFMARKET_CACHE_DIR", str(tmp_path))
    results: list[bytes] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(example_elf_path("sha256").read_bytes())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 3 and len(set(results)) == 1
    leftovers = [p.name for p in (tmp_path / "guests").iterdir() if p.suffix != ".elf"]
    assert leftovers == []


def test_example_elf_memoised_bytes() -> None:
    assert example_elf("fib") is example_elf("fib")
    assert guests.example_elf_path("fib").read_bytes() == example_elf("fib")


def test_sdk_files_are_package_data() -> None:
    for name in ("proofmarket.h", "runtime.c", "sha256.c", "start.S", "link.ld"):
        assert (GUEST_SDK_DIR / name).is_file()


# ---- CLI ------------------------------------------------------------------------------


def test_cli_guest_build_and_list(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "fib.elf"
    result = runner.invoke(
        app, ["guest", "build", str(example_source("fib")), "-o", str(out), "--opt", "-Os"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x7fELF"
    assert "built" in result.output
    listed = runner.invoke(app, ["guest", "list"])
    assert listed.exit_code == 0
    for name in example_names():
        assert name in listed.output


def test_cli_guest_build_error(tmp_path: Path) -> None:
    source = tmp_path / "bad.c"
    source.write_text("int main(void) { syntax error }\n")
    result = CliRunner().invoke(
        app, ["guest", "build", str(source), "-o", str(tmp_path / "bad.elf"), "--json"]
    )
    assert result.exit_code == 1
    assert '"ok": false' in result.output
    assert "bad.c" in result.output


def test_cli_guest_example(tmp_path: Path) -> None:
    out = tmp_path / "iter.elf"
    result = CliRunner().invoke(app, ["guest", "example", "iter", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == example_elf("iter")
    bad = CliRunner().invoke(app, ["guest", "example", "nope", "-o", str(out)])
    assert bad.exit_code == 1
