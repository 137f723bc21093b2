"""The CPU budget's attribution of py-spy stacks to stages, on stacks shaped as py-spy prints them.

Pure functions, no profiler: what the stage table decides for a given stack must not drift
silently (a wrong rule would move cost from one row of the budget to another).
"""

from __future__ import annotations

import importlib

from benchmarks.budget import (
    AUDIT,
    DECODE,
    ECDH,
    HTTP,
    LOG,
    OTHER,
    RESOLVE,
    RESPONSE,
    SIGV4,
    STAGE_RULES,
    STAGES,
    parse_raw,
    stage_of,
)

_LOOP = [
    ("Runner.run", "asyncio/runners.py"),
    ("RequestResponseCycle.run_asgi", "uvicorn/protocols/http/httptools_impl.py"),
    ("QkmsApp.__call__", "qkms/wire/asgi.py"),
    ("ApiPipeline.serve", "qkms/wire/pipeline.py"),
]


def test_the_innermost_matching_frame_decides_so_library_time_goes_to_its_caller() -> None:
    hmac_in_sigv4 = [
        *_LOOP,
        ("SigV4Verifier.verify", "qkms/wire/sigv4.py"),
        ("HMAC.digest", "hmac.py"),
    ]
    assert stage_of(hmac_in_sigv4) == SIGV4
    json_in_audit = [
        *_LOOP,
        ("AuditTrail.record", "qkms/audit/trail.py"),
        ("dumps", "json/__init__.py"),
    ]
    assert stage_of(json_in_audit) == AUDIT


def test_logging_is_the_log_whoever_calls_it() -> None:
    stack = [
        *_LOOP,
        ("Logger.info", "logging/__init__.py"),
        ("Handler.emit", "logging/__init__.py"),
    ]
    assert stage_of(stack) == LOG


def test_qkms_and_floor_stages_by_module_and_function() -> None:
    assert stage_of([*_LOOP, ("derive_shared_secret", "qkms/crypto/ecdh.py")]) == ECDH
    assert stage_of([*_LOOP, ("decode_request", "qkms/wire/codec.py")]) == DECODE
    assert stage_of([*_LOOP, ("decide_key_access", "qkms/domain/policy/access.py")]) == RESOLVE
    assert stage_of([*_LOOP, ("send_response", "qkms/wire/messages.py")]) == RESPONSE
    floor = [("Runner.run", "asyncio/runners.py"), ("app", "benchmarks/floor_app.py")]
    assert stage_of([*floor, ("_derive", "benchmarks/floor_app.py")]) == ECDH
    assert stage_of([*floor, ("_decode", "benchmarks/floor_app.py")]) == DECODE


def test_server_frames_split_into_writing_the_answer_and_the_rest() -> None:
    send = ("RequestResponseCycle.send", "uvicorn/protocols/http/httptools_impl.py")
    parse = ("HttpToolsProtocol.data_received", "uvicorn/protocols/http/httptools_impl.py")
    assert stage_of([*_LOOP[:2], send]) == RESPONSE
    assert stage_of([_LOOP[0], parse]) == HTTP
    assert stage_of([("<module>", "somewhere/else.py")]) == OTHER


def test_absolute_paths_match_on_whole_module_segments() -> None:
    assert stage_of([("verify", "/work/x/src/qkms/wire/sigv4.py")]) == SIGV4
    assert stage_of([("f", "/opt/notqkms/wire/sigv4.py")]) == OTHER


def test_every_rule_names_a_stage_of_the_table() -> None:
    assert {stage for _, _, stage in STAGE_RULES} <= set(STAGES)


def test_raw_lines_keep_worker_samples_only_and_survive_semicolons_in_command_lines() -> None:
    worker = (
        'process 10:"python -m qkms serve";process 11:"python -c from multiprocessing.spawn '
        'import spawn_main; spawn_main(tracker_fd=5) --multiprocessing-fork";'
        "<module> (<string>:1);verify (qkms/wire/sigv4.py:40) 7"
    )
    supervisor = 'process 10:"python -m qkms serve";run (uvicorn/supervisors/multiprocess.py:9) 5'
    stages, leaves = parse_raw(f"{worker}\n{supervisor}\n", {11})
    assert stages == {SIGV4: 7}
    assert leaves == {"verify (qkms/wire/sigv4.py)": 7}


def test_every_qkms_stage_rule_names_a_module_and_functions_that_exist() -> None:
    """The rules match on names: a refactor that moves a function must move its rule too.

    A rule's names are prefixes and alternatives (with and without the class, as profilers print
    frames): at least one of them must be the start of a name the module (or its class) has.
    """

    def resolves(module: object, dotted: str) -> bool:
        *path, prefix = dotted.split(".")
        owner = module
        for part in path:
            if not hasattr(owner, part):
                return False
            owner = getattr(owner, part)
        return any(name.startswith(prefix) for name in dir(owner))

    for module_name, functions, _stage in STAGE_RULES:
        if not module_name.startswith("qkms."):
            continue
        module = importlib.import_module(module_name)
        if functions:
            assert any(resolves(module, name) for name in functions), (module_name, functions)
