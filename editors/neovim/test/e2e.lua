-- End-to-end test of keylint in a real (headless) Neovim.
--
-- Environment: KEYLINT_BIN (the server binary), KEYLINT_FILE (a scratch copy of
-- fixtures/flask/editor_demo.py), KEYLINT_ENCODING ('utf-8' to keep what Neovim offers, 'utf-16'
-- to force UTF-16), KEYLINT_NVIM_DIR (editors/neovim). Exits 0 on success, 1 with a message on
-- failure. Run by scripts/test-editors.

local bin = assert(os.getenv('KEYLINT_BIN'), 'KEYLINT_BIN')
local file = assert(os.getenv('KEYLINT_FILE'), 'KEYLINT_FILE')
local encoding = os.getenv('KEYLINT_ENCODING') or 'utf-8'
local nvim_dir = assert(os.getenv('KEYLINT_NVIM_DIR'), 'KEYLINT_NVIM_DIR')

local step = 'start'
local function fail(msg)
  io.stderr:write(('neovim e2e [%s] FAILED at %s: %s\n'):format(encoding, step, msg))
  vim.cmd('cquit 1')
end
local function check(cond, msg)
  if not cond then
    fail(msg)
  end
end
local function wait(ms, pred, what)
  if not vim.wait(ms, pred, 20) then
    fail('timed out waiting for ' .. what)
  end
end

vim.opt.runtimepath:prepend(nvim_dir)
vim.cmd('filetype on')
local caps = vim.lsp.protocol.make_client_capabilities()
if encoding == 'utf-16' then
  caps.general.positionEncodings = { 'utf-16' }
end
vim.lsp.config('keylint', { cmd = { bin, 'server' }, capabilities = caps })
vim.lsp.enable('keylint')

step = 'open'
vim.cmd.edit(vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
wait(10000, function()
  return #vim.lsp.get_clients({ bufnr = buf, name = 'keylint' }) > 0
end, 'keylint to attach')
local client = vim.lsp.get_clients({ bufnr = buf, name = 'keylint' })[1]
wait(10000, function()
  return client.initialized
end, 'initialize')
check(
  client.offset_encoding == encoding,
  ('negotiated %s, wanted %s'):format(tostring(client.offset_encoding), encoding)
)

local function keylint_diags()
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == 'keylint' then
      table.insert(out, d)
    end
  end
  table.sort(out, function(a, b)
    return a.lnum < b.lnum
  end)
  return out
end
local function line_of(pattern)
  for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if l:find(pattern, 1, true) then
      return i - 1, l
    end
  end
end

step = 'diagnostics'
wait(10000, function()
  return #keylint_diags() > 0
end, 'keylint diagnostics')
local diags = keylint_diags()
local key_line, key_text = line_of('API_KEY = "')
check(#diags == 1, ('expected 1 finding, got %d'):format(#diags))
check(diags[1].code == 'KL101', 'code ' .. tostring(diags[1].code))
check(diags[1].lnum == key_line, ('finding on line %d, key on %d'):format(diags[1].lnum, key_line))
check(diags[1].col == key_text:find('"', 1, true) - 1, 'finding column ' .. diags[1].col)
check(not diags[1].message:find('4f9c2b7e', 1, true), 'the message repeats the secret')

step = 'code action'
local applied = false
vim.api.nvim_win_set_cursor(0, { key_line + 1, diags[1].col })
vim.lsp.buf.code_action({
  context = { diagnostics = vim.lsp.diagnostic.from(diags), only = { 'quickfix' } },
  filter = function(action)
    return action.title:find('environment', 1, true) ~= nil and action.title:find('.env', 1, true) == nil
  end,
  apply = true,
})
wait(10000, function()
  applied = line_of('os.environ["API_KEY"]') ~= nil
  return applied
end, 'the quick-fix edit')
vim.cmd('write')
local disk = table.concat(vim.fn.readfile(file), '\n')
check(disk:find('API_KEY = os.environ["API_KEY"]', 1, true), 'fixed assignment not on disk')
check(disk:find('\nimport os\n', 1, true), '`import os` not added on disk')
check(not disk:find('sk-live-4f9c2b7e', 1, true), 'the secret is still on disk')
wait(10000, function()
  return #keylint_diags() == 0
end, 'diagnostics to clear after the fix')

step = 'typing'
-- Type a new secret after an emoji and CJK text on the same line: the column must be right in
-- both encodings (Neovim's columns are bytes; keylint converts from the negotiated encoding).
local last = vim.api.nvim_buf_line_count(buf)
local typed = 'NOTE = "😀 中文"; GITHUB_TOKEN = "ghp_'
vim.api.nvim_buf_set_lines(buf, last, last, false, { typed })
local rest = 'R8x2LqP0mZ7vT3nK9wY4bC6dF1gH5jA8sE2u"'
for i = 1, #rest do
  local ch = rest:sub(i, i)
  vim.api.nvim_buf_set_text(buf, last, #typed + i - 1, last, #typed + i - 1, { ch })
end
wait(10000, function()
  local d = keylint_diags()
  return #d == 1 and d[1].lnum == last
end, 'a finding on the typed line')
local d = keylint_diags()[1]
local typed_line = vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1]
local expected_col = typed_line:find('"ghp_', 1, true) - 1
check(d.col == expected_col, ('typed finding at byte column %d, expected %d'):format(d.col, expected_col))

step = 'delete'
vim.api.nvim_buf_set_lines(buf, last, last + 1, false, {})
wait(10000, function()
  return #keylint_diags() == 0
end, 'diagnostics to clear after deleting the line')

io.stdout:write(('neovim e2e [%s]: ok\n'):format(encoding))
vim.cmd('qall!')
