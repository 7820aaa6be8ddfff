-- lsp/keylint.lua as nvim-lspconfig and Neovim's own vim.lsp.config read it: its shape, and the
-- root directory it gives keylint (root_markers: pyproject.toml, keylint.toml, .git; the nearest
-- directory holding any of them). Runs in a real headless Neovim 0.11 or 0.12.
--
-- Environment: KEYLINT_BIN (the server binary), KEYLINT_NVIM_DIR (editors/neovim), KEYLINT_TMP
-- (a scratch directory). Exits 0 on success, 1 with a message on failure.

local bin = assert(os.getenv('KEYLINT_BIN'), 'KEYLINT_BIN')
local nvim_dir = assert(os.getenv('KEYLINT_NVIM_DIR'), 'KEYLINT_NVIM_DIR')
local tmp = assert(os.getenv('KEYLINT_TMP'), 'KEYLINT_TMP')
local version = tostring(vim.version())

local step = 'start'
local function fail(msg)
  io.stderr:write(('neovim %s root markers FAILED at %s: %s\n'):format(version, step, msg))
  vim.cmd('cquit 1')
end
local function check(cond, msg)
  if not cond then
    fail(msg)
  end
end

-- 1. The file is what nvim-lspconfig's lsp/<name>.lua files are: a table of vim.lsp.Config.
step = 'shape'
local cfg = dofile(nvim_dir .. '/lsp/keylint.lua')
check(type(cfg) == 'table', 'lsp/keylint.lua returns a table')
check(vim.deep_equal(cfg.cmd, { 'keylint', 'server' }), 'cmd is keylint server')
check(vim.deep_equal(cfg.filetypes, { 'python' }), 'filetypes')
check(
  vim.deep_equal(cfg.root_markers, { 'pyproject.toml', 'keylint.toml', '.git' }),
  'root_markers: ' .. vim.inspect(cfg.root_markers)
)

-- 2. The root keylint is started in, in three layouts.
local function touch(path)
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  local f = assert(io.open(path, 'w'))
  f:write('')
  f:close()
end
touch(tmp .. '/a/pyproject.toml')
touch(tmp .. '/a/pkg/sub/app.py')
vim.fn.mkdir(tmp .. '/b/.git', 'p')
touch(tmp .. '/b/service/keylint.toml')
touch(tmp .. '/b/service/api/app.py')
vim.fn.mkdir(tmp .. '/c/.git', 'p')
touch(tmp .. '/c/src/app.py')

vim.opt.runtimepath:prepend(nvim_dir)
vim.cmd('filetype on')
vim.lsp.config('keylint', { cmd = { bin, 'server' } })
vim.lsp.enable('keylint')

local function root_of(file)
  vim.cmd.edit(vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local client
  if
    not vim.wait(10000, function()
      client = vim.lsp.get_clients({ bufnr = buf, name = 'keylint' })[1]
      return client ~= nil and client.initialized
    end, 20)
  then
    fail('keylint did not attach to ' .. file)
  end
  return client.root_dir, client
end

local real = function(p)
  return vim.uv.fs_realpath(p)
end
step = 'pyproject.toml'
local root = root_of(tmp .. '/a/pkg/sub/app.py')
check(root == real(tmp .. '/a'), 'root ' .. tostring(root))
step = 'keylint.toml nearer than .git'
root = root_of(tmp .. '/b/service/api/app.py')
check(root == real(tmp .. '/b/service'), 'root ' .. tostring(root))
step = '.git'
local client
root, client = root_of(tmp .. '/c/src/app.py')
check(root == real(tmp .. '/c'), 'root ' .. tostring(root))
check(client.workspace_folders and client.workspace_folders[1].name == real(tmp .. '/c'), 'workspace folder')
step = 'one client per root'
check(#vim.lsp.get_clients({ name = 'keylint' }) == 3, 'three roots, three clients')

io.stdout:write(('neovim %s: root markers ok\n'):format(version))
vim.cmd('qall!')
