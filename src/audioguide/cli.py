"""Command-line verbs. Each parses options and calls one library function; its docstring is its --help."""

from __future__ import annotations

import difflib
import errno
import inspect
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from audioguide.command import program, typed
from audioguide.config import PACES, BuildSettings
from audioguide.exceptions import AudioguideError, UsageError
from audioguide.i18n import N_, _, localise_click, ngettext, set_language
from audioguide.tts import validate_settings

log = logging.getLogger("audioguide")
localise_click()


def _typed(ctx: click.Context | None) -> str:
    """The command as the user can type it again (`.venv/bin/audioguide build`)."""
    return " ".join([program(), *(ctx.command_path.split()[1:] if ctx else [])])


def _in_french(exc: click.UsageError) -> UsageError:
    """click's usage errors are English; the volunteer's are French, with a "did you mean"."""
    where = f"`{_typed(exc.ctx)} --help`"
    if isinstance(exc, click.NoSuchOption):
        close = sorted(exc.possibilities or [])
        if exc.ctx and not close:
            names = [n for p in exc.ctx.command.params for n in p.opts + p.secondary_opts]
            close = difflib.get_close_matches(exc.option_name, names, n=1)
        return UsageError(_("The option {name} does not exist").format(name=exc.option_name)
                          + (_(": did you mean {names}?").format(names=_(" or ").join(close)) if close else "."),
                          fix=_("see the options with {where}").format(where=where))
    return UsageError(_("Mistyped command: {error}").format(error=exc.format_message()),
                      fix=_("see the help with {where}").format(where=where))


class _Commands(click.Group):
    """A group that answers a mistyped command in French, with the closest ones."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=2)
            raise UsageError(_("The command “{name}” does not exist").format(name=name)
                             + (_(": did you mean {names}?").format(names=_(" or ").join(close)) if close else "."),
                             fix=_("see the commands with {where}").format(where=f"`{_typed(ctx)} --help`"))
        return super().resolve_command(ctx, args)


def _lang_arg(args: list[str]) -> str | None:
    """The value of the top-level `--lang`, read before click parses: the help itself must be in that language."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
        if not arg.startswith("-"):  # the command: its options are its own
            return None
    return None


def _localise(cmd: click.Command) -> None:
    """Each help text in the chosen language; the English text, its msgid, is kept to switch again (tests)."""
    for obj in [cmd, *cmd.params]:
        for attr in ("help", "short_help"):
            original = obj.__dict__.setdefault(f"_msgid_{attr}", getattr(obj, attr, None))
            if original:
                setattr(obj, attr, _(inspect.cleandoc(original)))
    for sub in getattr(cmd, "commands", {}).values():
        _localise(sub)


class _Group(_Commands):
    def main(self, args: Any = None, *pargs: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        set_language(_lang_arg(argv))
        _localise(self)
        return super().main(argv, *pargs, **kwargs)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:  # the group's own options (`audioguide --verbos`)
            _say(_in_french(exc))
            raise click.exceptions.Exit(2) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            except click.UsageError as exc:
                raise _in_french(exc) from exc
        except AudioguideError as exc:
            _say(exc)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            # Disk full, read-only or forbidden folders anywhere (cache, temp): the user's to fix, not a bug.
            if exc.errno not in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT):
                raise
            from audioguide.files import explain_os_error

            err = explain_os_error(exc, Path(exc.filename or "."))
            _say(err)
            ctx.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo(_("Interrupted. Finished files were kept; run the same command again to resume."), err=True)
            ctx.exit(130)


class _Levels(logging.Formatter):
    """A volunteer reads « Attention : … » in French, not Python's WARNING: prefix."""

    WORDS = {logging.DEBUG: N_("Debug: {message}"), logging.INFO: N_("Note: {message}"),
             logging.WARNING: N_("Warning: {message}"), logging.ERROR: N_("Error: {message}"),
             logging.CRITICAL: N_("Error: {message}")}

    def format(self, record: logging.LogRecord) -> str:
        return _(self.WORDS.get(record.levelno, "{message}")).format(message=super().format(record))


def _say(exc: AudioguideError) -> None:
    click.echo(typed(_("Error: {error}").format(error=exc)), err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More messages (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Language of the messages [fr, or en when LANG "
              "starts with en].")
@click.version_option(package_name="audioguide", help="Show the version and exit.")  # a msgid, not click's text
def cli(verbose: int, quiet: bool, lang: str | None) -> None:
    """audioguide: turn a written patient-information guide into an accessible French audio guide."""
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose + 1, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Levels())
    logging.basicConfig(level=level, handlers=[handler])


@cli.command()
@click.argument("guide", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(), help="Output folder [output/<guide-id>]: new, empty, or made "
              "by earlier builds of this guide.")
@click.option("--allow-foreign-files", is_flag=True, help="Build into a folder that also holds other files; they are "
              "never removed, but files with the names the build writes are replaced.")
@click.option("--engine", default="espeak", show_default=True, help="Speech engine (see `audioguide engines`).")
@click.option("--voice", help="Engine voice: espeak-ng voice name, or a Piper .onnx file.")
@click.option("--pace", type=click.Choice(list(PACES)), help="Speaking pace: rate and pauses [the guide's `pace:`, "
              "else normal].")
@click.option("--rate", type=int, help="Words per minute; wins over the pace's rate.")
@click.option("--pitch", type=int, default=BuildSettings.pitch, show_default=True, help="Pitch, 0-99.")
@click.option("--fallback", help="Engine to use if the chosen one cannot run (e.g. gtts offline -> espeak).")
@click.option("--base-url", help="Public URL of the output folder, for the podcast feed.")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), help="Clip cache folder.")
@click.option("--jobs", "-j", type=int, help="Parallel workers [number of cores].")
@click.option("--clean", is_flag=True, help="Ignore the clip cache and previous outputs; rebuild everything.")
@click.option("--kiosk-idle", type=int, default=BuildSettings.kiosk_idle, show_default=True, metavar="SECONDS",
              help="Kiosk page: back to the main menu, forgetting the topic, after this many seconds without "
              "input; 0 never (a personal copy).")
@click.option("--option", "-o", "engine_options", multiple=True, metavar="KEY=VALUE",
              help="Engine setting, e.g. -o tld=fr (gTTS), -o speaker=0 -o length_scale=1.1 (Piper).")
def build(guide: Path, out_dir, allow_foreign_files, engine, voice, pace, rate, pitch, fallback, base_url, cache_dir,
          jobs, clean, kiosk_idle, engine_options) -> None:
    """Build the audio guide: MP3 chapters, whole-guide MP3, transcripts, feed and manifest."""
    from audioguide.build import build as run_build

    settings = BuildSettings(engine=engine, voice=voice, pace=pace, rate=rate, pitch=pitch, fallback=fallback,
                             out_dir=out_dir if out_dir is None or not out_dir.strip() else Path(out_dir),
                             allow_foreign_files=allow_foreign_files, clean=clean, base_url=base_url,
                             kiosk_idle=kiosk_idle, engine_options=_options(engine_options))
    if cache_dir:
        settings.cache_dir = cache_dir
    if jobs:
        settings.jobs = jobs
    result = run_build(guide, settings)
    m = result.manifest
    total = sum(c["duration"] for c in m["chapters"])
    click.echo(_("{chapters} chapters, {minutes:.1f} min, in {folder} ({clips} clips synthesised, {files} files "
                 "encoded).").format(chapters=len(m["chapters"]), minutes=total / 60, folder=result.out_dir,
                                     clips=result.synthesized, files=result.encoded))


def _options(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(_("The engine setting -o {pair} is not of the form KEY=VALUE.").format(pair=pair),
                             fix=_("write for example -o tld=fr (gTTS) or -o length_scale=1.1 (Piper)"))
        out[key.strip()] = value.strip()
    return out


@cli.command()
@click.argument("guide", type=click.Path(path_type=Path))
@click.option("--speech", is_flag=True,
              help="Also audit pronunciation with espeak-ng's phonemiser: words read in another language, "
                   "acronyms and names missing from the lexicon, lexicon entries used.")
@click.option("--strict", is_flag=True, help="With --speech: exit with status 1 if the audit finds any problem.")
def check(guide: Path, speech: bool, strict: bool) -> None:
    """Validate a guide and report every problem with its file, line and field.

    With --speech, list every word the listener would hear wrongly. A word read in another language on
    purpose is accepted with `lexicon: {Bluetooth: allow}` in the guide."""
    from audioguide.guide import load_guide

    g = load_guide(guide)
    pages = sum(len(c.pages) for c in g.chapters)
    # A two-level guide has no parts: saying "0 parts" would suggest something is missing.
    sizes = ([ngettext("{n} part", "{n} parts", len(g.parts)).format(n=len(g.parts))] if g.parts else []) + [
        ngettext("{n} chapter", "{n} chapters", len(g.chapters)).format(n=len(g.chapters)),
        ngettext("{n} page", "{n} pages", pages).format(n=pages)]
    click.echo(_("OK: {title!r}: {sizes}.").format(title=g.title, sizes=", ".join(sizes)))
    from audioguide.guide.load import MARKDOWN_SUFFIXES

    for ch in g.chapters:  # Markdown makes a paragraph under a topic's title its description: never said
        if ch.description and g.path is not None and g.path.suffix.lower() in MARKDOWN_SUFFIXES:
            click.echo(_("Warning: {file}, line {line}: the paragraph under the title “{title}” will not be read "
                         "aloud (it is the topic's description, which only manifest.json keeps). To have it heard, "
                         "put it under a page title, the heading level below.").format(
                file=g.path, line=ch.description_line, title=ch.title))
    from audioguide.recordings.check import report as recordings  # recorded pages, suspect lengths

    for line in recordings(g):
        click.echo(line)
    if speech:
        from audioguide.narration.audit import audit

        report = audit(g)
        click.echo("\n".join(report.lines()))
        if strict and report.problems:
            raise click.exceptions.Exit(1)


@cli.command()
@click.argument("source", default="-")
@click.option("--page", help="Page to narrate: PAGE-ID or CHAPTER-ID/PAGE-ID (with a GUIDE source).")
@click.option("--chapter", help="Narrate a whole chapter (with a GUIDE source).")
def narrate(source: str, page: str | None, chapter: str | None) -> None:
    """Print the spoken form, one sentence a line, as a build says it: of French text on stdin (`-`), or of a
    guide page or chapter."""
    from audioguide.guide import load_guide
    from audioguide.narration.script import ScriptWriter
    from audioguide.narration.written import join_sentences

    if source == "-":
        # One line a sentence, cut and said as a build of a guide says a paragraph.
        from audioguide.guide import Guide

        text = ScriptWriter(Guide("stdin", "", "", "", None))
        for line in sys.stdin.read().splitlines():
            click.echo(join_sentences(text._para(line), spoken=True) if line.strip() else "")
        return

    g = load_guide(source)
    writer = ScriptWriter(g)
    if page:
        try:
            ch, pg = g.find_page(page)
        except KeyError as exc:
            raise UsageError(_("No page {page!r} in {source}.").format(page=page, source=source),
                             fix=_("use CHAPTER-ID/PAGE-ID; list them with `audioguide narrate GUIDE --chapter ID`"),
                             ) from exc
        scripts = [writer.page(ch, pg, ch.pages.index(pg) + 1)]
    else:
        chapters = g.chapters
        if chapter:
            try:
                chapters = [g.chapter(chapter)]
            except KeyError as exc:
                ids = ", ".join(c.id for c in g.chapters)
                raise UsageError(_("No chapter {chapter!r}.").format(chapter=chapter),
                                 fix=_("chapters: {ids}").format(ids=ids)) from exc
        scripts = [s for c in chapters for s in writer.chapter(c)]
    for s in scripts:
        click.echo(f"# {s.chapter.id}/{s.page.id}")
        click.echo(s.transcript + "\n")


@cli.command()
@click.argument("folder", default="output", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port, 0-65535 (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but 127.0.0.1 shows the guide to the network.")
def serve(folder: Path, port: int, host: str) -> None:
    """Serve an output folder over HTTP (with Range requests) to try the feed, the kiosk and the audio."""
    from audioguide.serve import entry_points, make_server, public_warning

    server = make_server(folder, host, port)
    logging.getLogger("audioguide").setLevel(logging.INFO)
    if warning := public_warning(server):
        log.warning(warning)
    address, bound_port = str(server.server_address[0]), server.server_address[1]
    base = f"http://{f'[{address}]' if ':' in address else address}:{bound_port}/"
    click.echo(_("Serving {folder} at {url} (Ctrl+C to stop)").format(folder=folder, url=base), err=True)
    for line in entry_points(folder, base):
        click.echo(f"  {line}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo(_("Stopped."), err=True)
    finally:
        server.server_close()


@cli.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--keys", help='Keys to press, in order, e.g. "1 2 6 * #"; t = wait without pressing (time-out). '
                             "Without it, keys are read from the terminal.")
@click.option("--mute", is_flag=True, help="Print the prompts but do not play them.")
def phone(source: Path, keys: str | None, mute: bool) -> None:
    """Try the phone line in a terminal: SOURCE is a built output folder (with sound) or a guide (text only)."""
    import subprocess

    from audioguide.phone.simulator import Call, live_keys, load_menu, parse_keys, player

    menu, sounds = load_menu(source)
    cmd = None if mute or sounds is None else player()

    def play(prompt_id: str) -> None:
        click.echo(f"▶ [{prompt_id}] " + menu.prompts[prompt_id].text.replace("\n", "\n    "))
        if cmd and sounds is not None and (sounds / f"{prompt_id}.wav").exists():
            subprocess.run([*cmd, str(sounds / f"{prompt_id}.wav")], check=False)

    def scripted(keys: list[str]):
        for k in keys:
            click.echo(f"⌨  {k}")
            yield k

    Call(menu, play).run(scripted(parse_keys(keys)) if keys is not None
                         else live_keys(lambda s: click.echo(s, nl=False)))
    click.echo("☎  " + _("end of the call"))


@cli.command()
def engines() -> None:
    """List speech engines, whether each can run here, and how to fix it if not."""
    from audioguide.tts import engine_classes

    for name, cls in engine_classes().items():
        ok, why = cls.probe()
        flag = (_("yes") if ok else _("no")).ljust(3)
        online = " " + _("[online: sends text to a third party]") if cls.online else ""
        click.echo(f"{name:8} {flag}  {_(cls.description)}{online}")
        click.echo(f"{'':8}      {why}")
        if cls.options:
            settings = ", ".join(f"-o {o.example} ({_(o.help)})" for o in cls.options.values())
            click.echo(f"{'':8}      " + _("settings: {settings}").format(settings=settings))


# The command is optional: click 8.2 and later say so in the usage line, 8.1 did not; one usage for both.
@cli.group(cls=_Commands, invoke_without_command=True, subcommand_metavar="[COMMAND] [ARGS]...")
@click.option("--all", "show_all", is_flag=True, help="Every language, not only French.")
@click.option("--refresh", is_flag=True, help="Fetch the catalogue again.")
@click.pass_context
def voices(ctx, show_all: bool, refresh: bool) -> None:
    """List the Piper neural voices (French by default) and which are installed."""
    if ctx.invoked_subcommand:
        return
    from audioguide.tts.voices import catalogue, voices_dir

    shown = [v for v in catalogue(refresh).values() if show_all or v.family == "fr"]
    for v in shown:
        mark = _("installed") if v.installed else ""
        speakers = ngettext("speaker", "speakers", v.speakers)
        click.echo(f"{v.name:32} {v.quality:7} {v.speakers:4} {speakers:9} {v.size / 1e6:6.0f} MB  {mark}")
    click.echo(_("{n} voices; installed ones live in {folder}. Install one with: {command}").format(
        n=len(shown), folder=voices_dir(), command=f"{program()} voices install NAME"))


@voices.command("install")
@click.argument("names", nargs=-1, required=True)
@click.option("--from", "source", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Install from a folder holding NAME.onnx and NAME.onnx.json copied by hand (no network).")
def voices_install(names: tuple[str, ...], source: Path | None) -> None:
    """Download a Piper voice by name (e.g. fr_FR-siwis-medium), check it against the catalogue, install it."""
    from audioguide.tts.voices import install

    for name in names:
        path = install(name, source)
        click.echo(_("{name}: installed in {folder}. Use it with: {command}").format(
            name=name, folder=path.parent, command=f"{program()} build GUIDE --engine piper --voice {name}"))


# --- authoring: Markdown, conversion, import, schema, hearing one page -----------------------------


@cli.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.argument("target", type=click.Path(path_type=Path))
def convert(source: Path, target: Path) -> None:
    """Convert a guide between YAML and Markdown (TARGET ending in .md or .yaml); nothing is lost."""
    from audioguide.guide.convert import convert as run_convert

    fmt = run_convert(source, target)
    click.echo(_("Wrote {file} ({format}); it reads back as the same guide.").format(file=target, format=fmt))



@cli.command("import")
@click.argument("document", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the draft [a folder named after the document].")
def import_(document: Path, out_dir: Path | None) -> None:
    """Make a Markdown guide draft from a Word (.docx), web page (.html) or PDF file, and say what was guessed."""
    from audioguide.importers import import_document

    target, report = import_document(document, out_dir)
    click.echo(_("Wrote {file} (and import-report.txt beside it). What was guessed:").format(file=target))
    for line in report:
        click.echo(f"  - {line}")
    folder = shlex.quote(str(target.parent))
    click.echo(_("Next: edit {file}, then {check} and {build}.").format(
        file=target, check=f"`{program()} check {folder}`", build=f"`{program()} build {folder}`"))



@cli.command("schema")
def schema_() -> None:
    """Print the JSON Schema of the guide format (for editors that complete and check keys)."""
    import json

    from audioguide.guide.schema import schema

    click.echo(json.dumps(schema(), ensure_ascii=False, indent=2))



@cli.command()
@click.argument("guide", type=click.Path(path_type=Path))
def toc(guide: Path) -> None:
    """List the guide's parts, chapters and pages with their ids (to use with `listen` and `narrate`)."""
    from audioguide.guide import load_guide
    from audioguide.preview import toc_lines

    for line in toc_lines(load_guide(guide)):
        click.echo(line)


@cli.command()
@click.argument("guide", type=click.Path(path_type=Path))
@click.argument("page")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the audio to this .mp3 or .wav file instead of playing it.")
@click.option("--engine", default="espeak", show_default=True, help="Speech engine (see `audioguide engines`).")
@click.option("--voice", help="Engine voice: espeak-ng voice name, or a Piper .onnx file.")
@click.option("--rate", type=int, default=BuildSettings.rate, show_default=True, help="Words per minute.")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), help="Clip cache folder.")
@click.option("--option", "-o", "engine_options", multiple=True, metavar="KEY=VALUE",
              help="Engine setting, as for build.")
def listen(guide: Path, page: str, out_file: Path | None, engine: str, voice: str | None, rate: int | None,
           cache_dir: Path | None, engine_options: tuple[str, ...]) -> None:
    """Hear one page (PAGE-ID or CHAPTER-ID/PAGE-ID) or a whole chapter (CHAPTER-ID) before building all."""
    import tempfile

    from audioguide.guide import load_guide
    from audioguide.preview import play, render

    settings = BuildSettings(engine=engine, voice=voice, rate=rate, progress=False,
                             engine_options=_options(engine_options))
    if cache_dir:
        settings.cache_dir = cache_dir
    validate_settings(settings)
    g = load_guide(guide)
    if out_file:
        render(g, page, settings, out_file)
        click.echo(_("Wrote {file}.").format(file=out_file))
        return
    with tempfile.TemporaryDirectory(prefix="audioguide-listen-") as tmp:
        wav = render(g, page, settings, Path(tmp) / "page.wav")
        click.echo(_("Playing {page} (Ctrl+C to stop)…").format(page=page), err=True)
        play(wav)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, dir_okay=True))
def new(folder: Path) -> None:
    """Start a guide: write FOLDER/guide.md, a commented example in Markdown to replace with your text."""
    from audioguide.preview import new_guide

    target = new_guide(folder)
    where = shlex.quote(str(folder))
    click.echo(_("Wrote {file}. Edit it, then: {commands}").format(
        file=target, commands=f"{program()} check {where} && {program()} listen {where} pourquoi-ce-guide"))


@cli.command()
@click.argument("folder", default="mon-guide", type=click.Path(path_type=Path, file_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="TCP port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Any other than 127.0.0.1 requires --secret.")
@click.option("--secret", envvar="AUDIOGUIDE_STUDIO_SECRET", help="Secret code asked of browsers (at least 12 "
              "characters); also the variable AUDIOGUIDE_STUDIO_SECRET.")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), help="Folder of the voice clip cache.")
def studio(folder: Path, port: int, host: str, secret: str | None, cache_dir: Path | None) -> None:
    """Open the studio: make, import, check, hear and build a guide in a browser."""
    from audioguide.studio import serve_studio

    serve_studio(folder, host, port, secret, cache_dir,
                 ready=lambda url: click.echo(_("Studio open at {url} (Ctrl+C to stop)").format(url=url), err=True))


@cli.group(cls=_Commands)
def catalogue() -> None:
    """Build many guides in one run (a folder of guide folders, or a catalogue.yaml), here or on a Dask cluster."""


@catalogue.command("build")
@click.argument("catalogue_path", metavar="CATALOGUE", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("output"),
              show_default=True, help="Output folder: one folder per guide (named by its id), and the index.")
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://host:8786): synthesise the clips on its "
              "workers. Without it, everything runs on this machine.")
@click.option("--jobs", "-j", type=int, help="Parallel workers on this machine [number of cores].")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), help="Clip cache folder.")
def catalogue_build(catalogue_path: Path, out_dir: Path, scheduler: str | None, jobs: int | None, cache_dir) -> None:
    """Build every guide of CATALOGUE into OUT/<guide id>/, then OUT/index.html, catalogue.json and feeds.opml.

    A guide with an error does not stop the others; the exit status is 1 when some failed."""
    from audioguide.catalogue import build_catalogue

    settings = BuildSettings()
    if cache_dir:
        settings.cache_dir = cache_dir
    if jobs:
        settings.jobs = jobs
    validate_settings(settings)
    result = build_catalogue(catalogue_path, out_dir, settings, scheduler=scheduler)
    for o in result.outcomes:
        if not o.error:
            click.echo(_("OK").ljust(8) + _("{id}: {clips} clips synthesised, {files} files encoded.").format(
                id=o.id, clips=o.synthesized, files=o.encoded))
    for o in result.failed:
        click.echo(_("FAILED").ljust(8) + f"{o.id or o.source}:\n  " + (o.error or "").replace("\n", "\n  "), err=True)
    n, bad = len(result.outcomes), len(result.failed)
    click.echo(_("{built} guide(s) built, {failed} failed; index: {index}.").format(
        built=n - bad, failed=bad, index=out_dir / "index.html"))
    if bad:
        raise click.exceptions.Exit(1)


def main() -> None:
    cli(prog_name="audioguide")


if __name__ == "__main__":
    main()
