-- keylint language server for Neovim 0.11+ (vim.lsp.config / vim.lsp.enable).
--
--   vim.opt.runtimepath:append('/path/to/keylint/editors/neovim')  -- or copy lsp/keylint.lua
--   vim.lsp.enable('keylint')
--
-- Override anything with vim.lsp.config('keylint', { cmd = { '/path/to/keylint', 'server' } }).
---@type vim.lsp.Config
return {
  cmd = { 'keylint', 'server' },
  filetypes = { 'python' },
  root_markers = { 'pyproject.toml', 'keylint.toml', '.git' },
  -- Sent as initializationOptions and on workspace/didChangeConfiguration.
  init_options = {},
  settings = { keylint = {} },
}
