"""Cold start: from `python app.py --port P` to the first answer, and the app's memory after it.

    .venv/bin/python benchmarks/cold_start.py --json reports/cold_start.json
    .venv/bin/python benchmarks/cold_start.py --llm qwen2.5-coder-0.5b-instruct-q4_k_m

The app is started as a user starts it, over a temporary index of seeds/ built
beforehand (not timed; --index-dir uses an existing index instead). Timed from the moment
the process is spawned: the port accepting connections, the page answering HTTP 200, the
gradio_client connection, and the first answer of `/ask` (which waits for the models the app
loads in the background). Then the resident memory of the app's process (VmRSS, and its
peak VmHWM) is read from /proc. The model files are usually in the OS page cache from
earlier runs: this is a cold process, not a cold disk.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Who is John Kirby?"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", help="the answer model (default: the settings' llm)")
    parser.add_argument("--index-dir", type=Path,
                        help="an existing index to serve (default: build one of seeds/ first)")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="rag-cold-start-") as tmp:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
        env.pop("GRADIO_SERVER_NAME", None)
        env.pop("RAG_AUTH", None)
        if args.llm:
            env["RAG_LLM"] = args.llm
        if args.index_dir:
            env["RAG_INDEX_DIR"] = str(args.index_dir.resolve())
        else:
            env["RAG_INDEX_DIR"] = f"{tmp}/index"
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(ROOT / "seeds")],
                           env=env, cwd=ROOT, check=True, capture_output=True, timeout=600)
            print(f"seed index built in {time.perf_counter() - t:.1f}s (not counted)")

        port = free_port()
        log_path = Path(tmp) / "app.log"
        load_start = load_average()
        print(f"starting app.py on port {port}; load average {load_start}", flush=True)
        marks: dict[str, float] = {}
        with log_path.open("wb") as log:
            started = time.perf_counter()
            process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port",
                                        str(port)], cwd=ROOT, env=env, stdout=log,
                                       stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            def check() -> None:
                if process.poll() is not None:
                    raise SystemExit(f"app.py exited with {process.returncode}:\n"
                                     f"{log_path.read_text()[-3000:]}")
                if time.perf_counter() - started > args.timeout:
                    raise SystemExit(f"no answer within {args.timeout:.0f}s:\n"
                                     f"{log_path.read_text()[-3000:]}")

            while not port_open(port):
                check()
                time.sleep(0.1)
            marks["port_open"] = time.perf_counter() - started
            while True:
                check()
                try:
                    with urllib.request.urlopen(url + "/", timeout=5) as response:
                        if response.status == 200:
                            break
                except OSError:
                    time.sleep(0.1)
            marks["page_200"] = time.perf_counter() - started
            client = Client(url, verbose=False)
            marks["client_connected"] = time.perf_counter() - started
            answer = client.predict(args.question, None, api_name="/ask")
            marks["first_answer"] = time.perf_counter() - started
            memory = memory_mb(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()

    result = {"created": time.strftime("%Y-%m-%d %H:%M"), "llm": args.llm or "settings default",
              "question": args.question, "seconds": {k: round(v, 2) for k, v in marks.items()},
              "answer_timings": {k: round(v, 3) for k, v in answer.get("timings", {}).items()},
              "answer": answer.get("text"), "refused": answer.get("refused"),
              "citations": len(answer.get("citations") or []), "memory_mb": memory,
              "load_at_start": load_start, "load_at_end": load_average()}
    print(f"\n{'step (from spawn)':<26} {'seconds':>8}")
    for key, value in result["seconds"].items():
        print(f"{key:<26} {value:>8.2f}")
    print(f"\nanswer ({'refused' if result['refused'] else str(result['citations']) + ' citations'})"
          f": {result['answer']}")
    print("its timings: " + ", ".join(f"{k} {v}" for k, v in result["answer_timings"].items()))
    print(f"app memory after the answer: VmRSS {memory.get('VmRSS')} MB (anon "
          f"{memory.get('RssAnon')}, file-backed {memory.get('RssFile')}), peak VmHWM "
          f"{memory.get('VmHWM')} MB")
    print(f"load average {load_start} -> {result['load_at_end']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
