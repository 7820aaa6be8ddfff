"""keylint driven with the captured capabilities of real clients (pytest-lsp).

Each test runs once per client profile: VS Code (push diagnostics, UTF-16), Neovim 0.11 (pull
diagnostics, offers UTF-8) and Emacs 29 (push, offers UTF-32 first). The server under test is the
release binary (KEYLINT_BIN overrides).
"""

import os
import pathlib
import tempfile

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEYLINT = os.environ.get("KEYLINT_BIN") or str(ROOT / "target" / "release" / "keylint")
PROFILES = ["visual-studio-code", "neovim", "emacs"]

# A secret after an emoji and CJK text on the same line: its column differs in every encoding.
PREFIX = 'NOTE = "😀 中文"; GITHUB_TOKEN = '
SECRET = '"ghp_R8x2LqP0mZ7vT3nK9wY4bC6dF1gH5jA8sE2u"'
SOURCE = f'"""Client profile sample."""\n{PREFIX}{SECRET}\n'

WORKSPACE = pathlib.Path(tempfile.mkdtemp(prefix="keylint-profiles-"))
(WORKSPACE / "pyproject.toml").write_text("")
APP = WORKSPACE / "app.py"
APP.write_text(SOURCE)
URI = APP.as_uri()


def units(text: str, encoding: str) -> int:
    """Length of `text` in the units of an LSP position encoding."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def offset(text: str, pos: types.Position, encoding: str) -> int:
    """String index of an LSP position (no clamping needed: the server's positions are valid)."""
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: pos.line])
    line = lines[pos.line]
    count = 0
    for i, ch in enumerate(line):
        if count >= pos.character:
            return start + i
        count += units(ch, encoding)
    return start + len(line)


def apply(text: str, edits, encoding: str) -> str:
    spans = sorted(
        ((offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text) for e in edits),
        reverse=True,
    )
    for a, b, new in spans:
        text = text[:a] + new + text[b:]
    return text


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[KEYLINT, "server", "--stdio"]),
    params=PROFILES,
)
async def client(request, lsp_client: LanguageClient):
    registrations: list[types.RegistrationParams] = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(params: types.RegistrationParams):
        registrations.append(params)
        return None

    capabilities = client_capabilities(request.param)
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=WORKSPACE.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=WORKSPACE.as_uri(), name="project")],
        )
    )
    lsp_client.profile = request.param
    lsp_client.init_result = result
    lsp_client.registrations = registrations
    lsp_client.pulls = capabilities.text_document is not None and capabilities.text_document.diagnostic is not None
    yield
    await lsp_client.shutdown_session()


def negotiated(client: LanguageClient) -> str:
    enc = client.init_result.capabilities.position_encoding
    return str(enc.value if hasattr(enc, "value") else enc or "utf-16")


async def diagnostics_for(client: LanguageClient, text: str, version: int) -> list[types.Diagnostic]:
    """Opens (version 1) or replaces the document, then reads its diagnostics the client's way."""
    if version == 1:
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=URI, language_id="python", version=1, text=text)
            )
        )
    else:
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    if client.pulls:
        report = await client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=URI))
        )
        return list(report.items)
    while True:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if URI in client.diagnostics:
            return list(client.diagnostics[URI])


async def test_position_encoding_is_negotiated(client: LanguageClient):
    expected = {"visual-studio-code": "utf-16", "neovim": "utf-8", "emacs": "utf-8"}[client.profile]
    assert negotiated(client) == expected


async def test_diagnostics_arrive_the_clients_way_with_columns_in_its_encoding(client: LanguageClient):
    diags = await diagnostics_for(client, SOURCE, 1)
    kl101 = [d for d in diags if d.code == "KL101"]
    assert len(kl101) == 1, diags
    d = kl101[0]
    enc = negotiated(client)
    assert d.range.start.line == 1
    assert d.range.start.character == units(PREFIX, enc)
    assert d.range.end.character == units(PREFIX + SECRET, enc)
    assert d.source == "keylint"
    assert "R8x2LqP0" not in d.message, "the message repeats the secret"
    assert d.code_description is not None and d.code_description.href.startswith("https://")
    if client.pulls:
        assert URI not in client.diagnostics, "a pulling client was pushed to"


async def test_quick_fix_resolves_if_needed_and_removes_the_finding(client: LanguageClient):
    diags = await diagnostics_for(client, SOURCE, 1)
    d = next(d for d in diags if d.code == "KL101")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=d.range,
            context=types.CodeActionContext(diagnostics=[d], only=[types.CodeActionKind.QuickFix]),
        )
    )
    env = [a for a in actions if isinstance(a, types.CodeAction) and "from the environment" in a.title and ".env" not in a.title]
    assert env, [a.title for a in actions]
    action = env[0]
    assert not action.is_preferred, "an unsafe fix must not be preferred"
    if action.edit is None:
        # Clients that offer resolveSupport for `edit` may get the edit on resolve.
        action = await client.code_action_resolve_async(action)
    edit = action.edit
    assert edit is not None
    if edit.document_changes:
        text_edits = [e for dc in edit.document_changes for e in dc.edits]
    else:
        text_edits = edit.changes[URI]
    fixed = apply(SOURCE, text_edits, negotiated(client))
    assert 'GITHUB_TOKEN = os.environ["GITHUB_TOKEN"]' in fixed
    assert "import os\n" in fixed
    assert "ghp_R8x2" not in fixed
    after = await diagnostics_for(client, fixed, 2)
    assert [x for x in after if x.code == "KL101"] == []


async def test_config_watchers_are_registered_when_the_client_allows_it(client: LanguageClient):
    caps = client_capabilities(client.profile)
    dynamic = bool(
        caps.workspace
        and caps.workspace.did_change_watched_files
        and caps.workspace.did_change_watched_files.dynamic_registration
    )
    await diagnostics_for(client, SOURCE, 1)
    methods = [r.method for p in client.registrations for r in p.registrations]
    if dynamic:
        assert "workspace/didChangeWatchedFiles" in methods
        reg = next(r for p in client.registrations for r in p.registrations if r.method == "workspace/didChangeWatchedFiles")
        patterns = str(reg.register_options)
        assert "pyproject.toml" in patterns and "keylint.toml" in patterns
    else:
        assert "workspace/didChangeWatchedFiles" not in methods
