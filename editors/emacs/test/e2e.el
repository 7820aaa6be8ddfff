;;; e2e.el --- keylint end-to-end test in a real Emacs (eglot)  -*- lexical-binding: t; -*-
;;
;; Run by scripts/test-editors as `emacs --batch -Q -l e2e.el` with KEYLINT_BIN (the server) and
;; KEYLINT_FILE (a scratch copy of fixtures/flask/editor_demo.py).  eglot takes pushed diagnostics
;; and speaks UTF-16 columns.  Exits 0 on success, 1 with a message on failure.

;; `-Q' skips site start-up: make Debian's elpa-eglot (and its dependencies) loadable.
(require 'package)
(dolist (dir (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))
  (add-to-list 'load-path dir))
(package-initialize)
(require 'eglot)
(require 'flymake)
(require 'python)

(defvar kl-bin (getenv "KEYLINT_BIN"))
(defvar kl-file (getenv "KEYLINT_FILE"))
(defvar kl-step "start")

(defun kl-fail (fmt &rest args)
  (princ (format "emacs e2e FAILED at %s: %s\n" kl-step (apply #'format fmt args))
         #'external-debugging-output)
  (kill-emacs 1))

(defun kl-wait (pred what &optional seconds)
  (let ((deadline (+ (float-time) (or seconds 20))))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall pred) (kl-fail "timed out waiting for %s" what))))

(defun kl-diags ()
  (sort (seq-filter (lambda (d) (string-prefix-p "keylint" (flymake-diagnostic-text d)))
                    (flymake-diagnostics))
        (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))

(unless (and kl-bin kl-file) (kl-fail "KEYLINT_BIN and KEYLINT_FILE must be set"))
(setq eglot-server-programs `((python-mode . (,kl-bin "server"))))
(setq flymake-no-changes-timeout 0.1)

(setq kl-step "open")
(find-file kl-file)
(python-mode)
(apply #'eglot (eglot--guess-contact))
(kl-wait (lambda () (eglot-current-server)) "eglot to connect")

(setq kl-step "diagnostics")
(kl-wait (lambda () (kl-diags)) "keylint diagnostics")
(let* ((diags (kl-diags))
       (d (car diags)))
  (unless (= (length diags) 1) (kl-fail "expected 1 finding, got %d" (length diags)))
  (unless (string-match-p "\\[KL101\\]" (flymake-diagnostic-text d))
    (kl-fail "finding text %S lacks KL101" (flymake-diagnostic-text d)))
  (when (string-match-p "4f9c2b7e" (flymake-diagnostic-text d))
    (kl-fail "the message repeats the secret"))
  (save-excursion
    (goto-char (flymake-diagnostic-beg d))
    (unless (looking-at "\"sk-live-") (kl-fail "finding does not start at the literal"))
    (unless (= (line-number-at-pos) 5) (kl-fail "finding on line %d" (line-number-at-pos))))

  (setq kl-step "code action")
  (let* ((actions (eglot-code-actions (flymake-diagnostic-beg d) (flymake-diagnostic-end d)
                                      "quickfix"))
         (action (seq-find (lambda (a)
                             (let ((title (plist-get a :title)))
                               (and (string-match-p "environment" title)
                                    (not (string-match-p "\\.env" title)))))
                           actions)))
    (unless action (kl-fail "no read-from-environment quick-fix among %S"
                            (mapcar (lambda (a) (plist-get a :title)) actions)))
    (eglot--apply-workspace-edit (plist-get action :edit))))

(setq kl-step "save")
(save-buffer)
(let ((disk (with-temp-buffer (insert-file-contents kl-file) (buffer-string))))
  (unless (string-match-p (regexp-quote "API_KEY = os.environ[\"API_KEY\"]") disk)
    (kl-fail "fixed assignment not on disk:\n%s" disk))
  (unless (string-match-p "^import os$" disk) (kl-fail "`import os' not added"))
  (when (string-match-p "sk-live-" disk) (kl-fail "the secret is still on disk")))
(kl-wait (lambda () (null (kl-diags))) "diagnostics to clear after the fix")

(setq kl-step "typing")
;; Batch Emacs never goes idle, so the idle timers that send eglot's didChange and start Flymake
;; do not fire: run what they would run after each keystroke.
(defun kl-idle ()
  (eglot--signal-textDocument/didChange)
  (flymake-start))
(goto-char (point-max))
(insert "NOTE = \"😀 中文\"; GITHUB_TOKEN = \"ghp_")
(kl-idle)
(dolist (ch (string-to-list "R8x2LqP0mZ7vT3nK9wY4bC6dF1gH5jA8sE2u\""))
  (insert (char-to-string ch))
  (kl-idle)
  (accept-process-output nil 0.01))
(kl-wait (lambda () (flymake-start) (= (length (kl-diags)) 1)) "a finding on the typed line")
(save-excursion
  (goto-char (flymake-diagnostic-beg (car (kl-diags))))
  (unless (looking-at "\"ghp_") (kl-fail "typed finding at the wrong column (UTF-16 conversion)")))

(setq kl-step "delete")
(delete-region (line-beginning-position) (point-max))
(kl-idle)
(kl-wait (lambda () (flymake-start) (null (kl-diags))) "diagnostics to clear after deleting the line")

(princ "emacs e2e: ok\n")
(kill-emacs 0)
;;; e2e.el ends here
