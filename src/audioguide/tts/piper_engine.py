"""Piper: offline neural voices, by name (see voices.py) or from a .onnx file with its .onnx.json.

Two things differ from Piper's own `PiperVoice.synthesize`, for the reasons measured in issue 16:
- Reproducible audio. A Piper voice draws random noise inside the model (two RandomNormalLike nodes), from a
  generator that each onnxruntime session seeds from the clock and advances at every run: the same sentence
  sounded a little different each time, and a clip depended on which clips the same session made before it.
  At load, those nodes are rewired to read their noise from inputs, which we fill from a generator seeded by
  the sentence itself, so a clip is a function of its text and settings, whatever the job count or order.
- One model for all workers, one thread per run. onnxruntime runs concurrent calls on one session, so
  `--jobs` worker threads share one copy of the weights and each drives one core. Its default, a pool of
  spinning threads per run, spent 1.7× the CPU time per second of speech for little gain.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import threading
import wave
from functools import lru_cache
from pathlib import Path

from audioguide import versions
from audioguide.exceptions import EngineError
from audioguide.i18n import N_, _
from audioguide.tts.base import RATE, Engine, Option, bound_text, fix_label, to_wav
from audioguide.tts.voices import resolve

VOICES_HELP = N_("install a French voice with `audioguide voices install fr_FR-siwis-medium`, then pass "
                  "--voice fr_FR-siwis-medium (or --voice PATH/NAME.onnx for a file with its .onnx.json beside it)")
NOISE = "audioguide_noise_"
"""Prefix of the inputs that replace the model's random nodes, and of the outputs giving how much noise a run used."""
MAX_WAV = 32767.0


class Model:
    """A Piper voice whose noise comes from the caller, shared by every worker thread."""

    def __init__(self, path: Path):
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        config = PiperConfig.from_dict(json.loads(Path(f"{path}.json").read_text("utf-8")))
        graph, self.noises, self.alignment = _noise_from_inputs(path)
        options = onnxruntime.SessionOptions()
        # One thread per run: the workers are the parallelism. This also keeps results bit-identical whatever
        # the number of workers, since no run's arithmetic is split differently between threads.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # A memory pattern is planned and kept for each input shape, and every sentence has its own length: the
        # arena grew by about 20 MB per second of speech and never gave it back (e-santé: 740 MB at two workers;
        # without patterns, about 400 MB, for 3 % more CPU).
        options.enable_mem_pattern = False
        session = onnxruntime.InferenceSession(graph, sess_options=options, providers=["CPUExecutionProvider"])
        # onnxruntime keeps the model's bytes for a session it never re-creates on the CPU ("TODO: This is bad as
        # we're holding the memory indefinitely"): 60 MB for a medium voice.
        session._model_bytes = None
        del graph
        self.voice = PiperVoice(config=config, session=session)  # for phonemize and phonemes_to_ids
        self.session = session
        self.config = config
        # The audio, then how much noise each node took (a voice patched for alignments has a second output).
        self.outputs = [session.get_outputs()[0].name] + [f"{NOISE}{i}_size" for i in range(len(self.noises))] \
            + ([self.alignment] if self.alignment else [])
        self.per_id = [4.0] * len(self.noises)
        """Noise values used per phoneme id, so far: the first guess at how much to draw for the next run."""

    def audio(self, text: str, speaker: int | None, length: float | None, noise: float | None,
              noise_w: float | None) -> bytes:
        """16-bit mono samples at the model's rate for `text`, sentence after sentence, as PiperVoice does."""
        return b"".join(pcm for pcm, _ in self.sentences(text, speaker, length, noise, noise_w))

    def word_samples(self, text: str, speaker: int | None, length: float | None, noise: float | None,
                     noise_w: float | None) -> list[int] | None:
        """Where each word the phonemiser found starts, in samples at the model's rate, from the model's own
        phoneme durations (its `w_ceil` tensor, exposed by piper-tts's patch); None when it has none."""
        import numpy as np

        if not self.alignment:
            return None
        space = self.config.phoneme_id_map[" "][0]
        starts, offset = [], 0
        for pcm, (ids, per_id) in self.sentences(text, speaker, length, noise, noise_w):
            # ids: BOS, PAD, then each phoneme and a PAD; a word starts after a space and its PAD
            cum = np.concatenate([[0], np.cumsum(per_id)])
            starts += [offset + int(cum[2])] + [offset + int(cum[i + 2]) for i, x in enumerate(ids) if x == space]
            offset += len(pcm) // 2
        return starts

    def sentences(self, text: str, speaker, length, noise, noise_w) -> list[tuple[bytes, tuple]]:
        """(16-bit samples, (phoneme ids, samples per id)) for each sentence of `text`, as PiperVoice does."""
        import numpy as np

        c = self.config
        scales = np.array([c.noise_scale if noise is None else noise, c.length_scale if length is None else length,
                           c.noise_w_scale if noise_w is None else noise_w], dtype=np.float32)
        sid = None
        if c.num_speakers > 1:
            sid = c.default_speaker_id if speaker is None else speaker
        out = []
        for phonemes in self.voice.phonemize(text):
            if not phonemes:
                continue
            ids = self.voice.phonemes_to_ids(phonemes)
            audio, per_id = self._run_aligned(np.array([ids], dtype=np.int64), scales, sid)
            peak = float(np.max(np.abs(audio))) if audio.size else 0.0
            audio = np.zeros_like(audio) if peak < 1e-8 else audio / peak  # Piper's normalize_audio
            audio = np.clip(audio, -1.0, 1.0).astype(np.float32)
            out.append((np.clip(audio * MAX_WAV, -MAX_WAV, MAX_WAV).astype(np.int16).tobytes(), (ids, per_id)))
        return out

    def release(self) -> None:
        """Give the memory of past runs back to the system. onnxruntime keeps it in its arena for the next run,
        which is what makes runs cheap; once synthesis is over it would only sit beside the encoders."""
        import numpy as np
        import onnxruntime

        options = onnxruntime.RunOptions()
        options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        ids = np.array([[0, 0]], dtype=np.int64)
        feeds = {"input": ids, "input_lengths": np.array([2], dtype=np.int64),
                 "scales": np.array([0, 1, 0], dtype=np.float32),
                 **{f"{NOISE}{i}": np.zeros(1, dtype=np.float32) for i in range(len(self.noises))}}
        if self.config.num_speakers > 1:
            feeds["sid"] = np.array([0], dtype=np.int64)
        self.session.run(self.outputs[:1], feeds, options)

    def _run(self, ids, scales, sid):
        return self._run_aligned(ids, scales, sid)[0]

    def _run_aligned(self, ids, scales, sid):
        """The audio of one sentence's phoneme ids, and the samples of each id (None without the alignment)."""
        import numpy as np

        feeds = {"input": ids, "input_lengths": np.array([ids.shape[1]], dtype=np.int64), "scales": scales}
        if sid is not None:
            feeds["sid"] = np.array([sid], dtype=np.int64)
        seed = int.from_bytes(hashlib.sha256(ids.tobytes() + scales.tobytes() + str(sid).encode()).digest()[:8],
                              "little")
        want = [max(1, int(r * ids.shape[1] * 1.25)) for r in self.per_id]
        for _attempt in range(4):
            for i, ((mean, scale), n) in enumerate(zip(self.noises, want)):
                # The same seed gives the same first values however many are drawn: a run that had to
                # draw more (below) uses the noise a luckier guess would have used.
                draw = np.random.default_rng([seed, i]).standard_normal(n, dtype=np.float32)
                feeds[f"{NOISE}{i}"] = draw * np.float32(scale) + np.float32(mean)
            audio, *used = self.session.run(self.outputs, feeds)
            per_id = (used.pop().squeeze() * self.config.hop_length).astype(np.int64) if self.alignment else None
            used = [int(u[0]) for u in used]
            for i, u in enumerate(used):
                self.per_id[i] = max(self.per_id[i], u / ids.shape[1])
            if all(u <= n for u, n in zip(used, want)):
                return audio.squeeze(), per_id
            # The model stretched the speech more than guessed: the graph repeated the noise to fill it.
            # Run again with exactly what it needs.
            want = [max(u, n) for u, n in zip(used, want)]
        raise EngineError(_("Piper kept asking for more noise than it used."), cause=_("an unusual voice model"))


def _noise_from_inputs(path: Path) -> tuple[bytes, list[tuple[float, float]], str | None]:
    """The model, as bytes, with each RandomNormalLike node replaced by the first values of an input (repeated
    if too short), and an output giving how many values it took; each node's (mean, scale); and the name of
    the output added for the phoneme durations (None: none)."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(path))
    graph = model.graph
    noises: list[tuple[float, float]] = []
    nodes = []
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        i = len(noises)
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        noises.append((float(attrs.get("mean", 0.0)), float(attrs.get("scale", 1.0))))
        n, p = f"{NOISE}{i}", f"{NOISE}{i}_"
        graph.input.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n"]))
        graph.output.append(helper.make_tensor_value_info(f"{n}_size", TensorProto.INT64, [1]))
        graph.initializer.extend([helper.make_tensor(p + "one", TensorProto.INT64, [1], [1]),
                                  helper.make_tensor(p + "zero", TensorProto.INT64, [1], [0])])
        y = node.output[0]
        flat = p + "flat" if attrs.get("dtype", TensorProto.FLOAT) == TensorProto.FLOAT else p + "flat_f"
        nodes += [
            helper.make_node("Shape", [node.input[0]], [p + "shape"]),
            helper.make_node("Size", [node.input[0]], [p + "count"]),
            helper.make_node("Reshape", [p + "count", p + "one"], [f"{n}_size"]),
            helper.make_node("Shape", [n], [p + "have"]),
            # repeats = ceil(needed / given), so the slice below never runs short
            helper.make_node("Add", [f"{n}_size", p + "have"], [p + "sum"]),
            helper.make_node("Sub", [p + "sum", p + "one"], [p + "sum1"]),
            helper.make_node("Div", [p + "sum1", p + "have"], [p + "reps"]),
            helper.make_node("Tile", [n, p + "reps"], [p + "tiled"]),
            helper.make_node("Slice", [p + "tiled", p + "zero", f"{n}_size"], [flat]),
        ]
        if flat != p + "flat":
            nodes.append(helper.make_node("Cast", [flat], [p + "flat"], to=attrs["dtype"]))
        nodes.append(helper.make_node("Reshape", [p + "flat", p + "shape"], [y]))
    del graph.node[:]
    graph.node.extend(nodes)
    try:  # the phoneme durations, as an output: where each word starts (captions inside a clip)
        from piper.patch_voice_with_alignment import add_alignment_output

        alignment = add_alignment_output(model)
    except (ImportError, ValueError):  # an older piper-tts, or a model without that tensor
        alignment = None
    return model.SerializeToString(), noises, alignment


_loading = threading.Lock()
_models: dict[tuple[str, int, int], Model] = {}


def load(path: Path) -> Model:
    """The voice at `path`, loaded once per process (and again only if the file changes)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _loading:  # workers starting together load it once
        if key not in _models:
            try:
                model = Model(path)
            except Exception as exc:
                raise EngineError(_("Piper could not load {file}: {error}").format(file=path.name,
                                                                                    error=str(exc)[:300]),
                                  cause=_("a damaged or incompatible voice file"),
                                  fix=_("download the voice again")) from exc
            while len(_models) >= 2:  # a test or a long-lived process switching voices keeps two at most
                _models.pop(next(iter(_models)))
            _models[key] = model
        return _models[key]


@lru_cache(maxsize=8)
def _config_sha(path: str, size: int, mtime_ns: int) -> str:
    """The voice config's hash, once per version of the file (identity() is asked for every clip)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@lru_cache(maxsize=1)
def _runtime() -> list[str]:
    return versions("piper-tts", "onnxruntime")


class PiperEngine(Engine):
    name = "piper"
    description = N_("Piper neural voices, offline; needs --voice NAME (see `audioguide voices`) or PATH.onnx")
    max_chars = 250
    """A run's working memory grows with its sentence: about 20 MB per second of speech (260 MB for 250
    characters), per worker. Narration clauses are far shorter (77 characters at most in the e-santé guide);
    this bounds the rare long one, cut at a clause and joined with no gap."""
    options = {
        "speaker": Option(int, N_("the voice's number, for a model with several voices"), 0, 9999, example="speaker=0"),
        "length_scale": Option(float, N_("the slowness: 1 normal, 1.2 slower"), 0.25, 4, example="length_scale=1.1"),
        "noise_scale": Option(float, N_("the variation of the voice"), 0, 2, example="noise_scale=0.667"),
        "noise_w": Option(float, N_("the variation of the rhythm"), 0, 2, example="noise_w=0.8"),
    }

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        # find_spec, not import: a rebuild with nothing to synthesise does not pay for loading onnxruntime
        missing = [m for m, pkg in (("piper", "piper-tts"), ("onnx", "onnx")) if importlib.util.find_spec(m) is None]
        if missing:
            return False, _("{module} is not installed.").format(module=missing[0]) + fix_label() + \
                "pip install 'audioguide[piper]'"
        return True, "installed; needs --voice NAME or PATH.onnx (" + VOICES_HELP.split(", then")[0] + ")"

    @property
    def voice_path(self) -> Path:
        if not self.settings.voice:
            raise EngineError(_("The piper engine needs a voice file."), fix=_(VOICES_HELP))
        return resolve(self.settings.voice)

    def check(self) -> None:
        """Files present and the config readable. The model itself loads at the first sentence to synthesise,
        so a rebuild that has every clip in the cache stays under a second."""
        super().check()
        p = self.voice_path
        if not p.exists():
            raise EngineError(_("Piper voice file not found: {file}").format(file=p),
                              cause=_("wrong path, or the voice was not downloaded"), fix=_(VOICES_HELP))
        config = Path(str(p) + ".json")
        if not config.exists():
            raise EngineError(_("Piper voice config not found: {file}").format(file=config),
                              cause=_("each .onnx voice comes with a .onnx.json file"),
                              fix=_("put both files side by side"))
        problem: str | None
        try:
            data = json.loads(config.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            data, problem = None, f"{type(exc).__name__}: {exc}"
        else:
            problem = "not a JSON object" if not isinstance(data, dict) else next(
                (f"no {k!r}" for k in ("audio", "num_speakers", "phoneme_id_map") if k not in data), None)
        if problem:
            raise EngineError(_("Piper voice config {file} is unreadable ({problem}).").format(file=config,
                                                                                              problem=problem),
                              cause=_("a damaged or incomplete .onnx.json file"), fix=_("download the voice again"))

    def _opt(self, key: str, cast=float):
        v = self.settings.engine_options.get(key)
        return cast(v) if v is not None else None

    def identity(self) -> dict:
        p = self.voice_path
        stat = p.stat() if p.exists() else None
        config = Path(f"{p}.json")
        try:
            cst = config.stat()
            config_sha = _config_sha(str(config), cst.st_size, cst.st_mtime_ns)
        except OSError:
            config_sha = None
        # The config holds the voice's own scales, rate and phoneme map, and the runtime phonemises and computes:
        # a change to either changes the audio, so clips made before it must not be taken from the cache.
        return {"engine": "piper", "voice": p.name, "size": stat.st_size if stat else 0, "config": config_sha,
                "runtime": _runtime(), "speaker": self._opt("speaker", int),
                "length_scale": self._opt("length_scale"), "noise_scale": self._opt("noise_scale"),
                "noise_w": self._opt("noise_w")}

    def release(self) -> None:
        p = self.voice_path
        model = next((m for (path, *_), m in _models.items() if path == str(p)), None)
        if model is not None:  # never load a model only to release it
            model.release()

    def word_starts(self, text: str, wav: Path) -> list[tuple[int, float]]:
        """From the voice's phoneme durations (the same run as the clip's: its noise is seeded by its text), when
        the phonemiser's words are the text's; else spread over the speech (Engine.word_starts)."""
        if len(bound_text(text, self.max_chars, self.max_word)) > 1:  # said in several runs: spread
            return super().word_starts(text, wav)
        model = load(self.voice_path)
        starts = model.word_samples(text, self._opt("speaker", int), self._opt("length_scale"),
                                    self._opt("noise_scale"), self._opt("noise_w"))
        words = [m.start() for m in re.finditer(r"\S*\w\S*", text)]
        if starts is None or len(starts) != len(words):
            return super().word_starts(text, wav)
        return [(pos, n / model.config.sample_rate) for pos, n in zip(words, starts)]

    def synthesize(self, text: str, wav: Path) -> None:
        model = load(self.voice_path)
        try:
            pcm = model.audio(text, self._opt("speaker", int), self._opt("length_scale"), self._opt("noise_scale"),
                              self._opt("noise_w"))
        except EngineError:
            raise
        except Exception as exc:  # onnxruntime and the phonemiser raise their own kinds
            raise EngineError(_("Piper failed on the text «{text}» ({error}).").format(
                                  text=text[:60], error=f"{type(exc).__name__}: {str(exc)[:200]}"),
                              cause=_("a voice file that does not match this version of piper-tts, or an "
                                      "unusual text"),
                              fix=_("download the voice again, or rephrase that text")) from exc
        if not pcm:
            raise EngineError(_("Piper made no speech from the text «{text}».").format(text=text[:60]),
                              cause=_("the text has nothing this voice can pronounce"),
                              fix=_("rephrase that text in the guide"))
        rate = model.config.sample_rate
        raw = wav if rate == RATE else wav.with_suffix(".piper.wav")
        try:
            with wave.open(str(raw), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(rate)
                w.writeframes(pcm)
            if raw != wav:
                to_wav(raw, wav)
        finally:
            if raw != wav:
                raw.unlink(missing_ok=True)
