#!/usr/bin/env python3
"""md2man.py NAME SECTION DATE IN.md OUT: a man(7) page from one of omm's
docs (docs/config.md becomes ommd.conf(5)), so that the manual and the doc
cannot drift apart. Handles what those docs use: headings, paragraphs,
pipe tables (a row becomes a tagged paragraph: first cell the tag, the
others its text), fenced code blocks, lists and `code` spans."""
import re, sys

def esc(s):
    s = s.replace('\\', '\\e')
    s = re.sub(r'`([^`]*)`', lambda m: '\\fB' + m.group(1) + '\\fR', s)
    s = re.sub(r'\*\*([^*]*)\*\*', lambda m: '\\fB' + m.group(1) + '\\fR', s)
    s = s.replace('\\fB\\fR', '')
    return s

def line(s):
    s = esc(s)
    if s[:1] in ('.', "'"):
        s = '\\&' + s
    return s

def main():
    name, sect, date, src, out = sys.argv[1:6]  # date: the version
    lines = open(src).read().split('\n')
    o = ['.\\" Generated from %s by man/md2man.py: edit that file.' % src,
         '.TH %s %s %s omm' % (name.upper().replace('.', '\\&.'), sect, date)]
    title = lines[0].lstrip('# ').strip() if lines and lines[0].startswith('# ') else name
    o += ['.SH NAME', '%s \\- omm node daemon configuration' % name.replace('-', '\\-')
          if name == 'ommd.conf' else '%s' % name, '.SH DESCRIPTION']
    i, header = 1, None
    incode = False
    while i < len(lines):
        l = lines[i]
        if l.startswith('```'):
            incode = not incode
            o.append('.nf' if incode else '.fi')
            if incode:
                o.append('.RS 4')
            else:
                o.insert(len(o) - 1, '.RE')
            i += 1
            continue
        if incode:
            o.append(line(l) if l else '')
            i += 1
            continue
        if l.startswith('### '):
            o += ['.SS "%s"' % esc(l[4:].strip())]
        elif l.startswith('## '):
            o += ['.SH "%s"' % esc(l[3:].strip()).upper()]
        elif l.startswith('|'):
            cells = [c.strip() for c in l.strip().strip('|').split('|')]
            if header is None:
                header = cells
            elif all(re.fullmatch(r':?-+:?', c) for c in cells):
                pass
            else:
                tag = cells[0]
                rest = []
                for h, c in zip(header[1:], cells[1:]):
                    if h.lower() == 'default':
                        rest.append('Default: %s.' % c)
                    else:
                        rest.append(c)
                o += ['.TP', line(tag), line(' '.join(rest))]
            i += 1
            continue
        elif l.startswith('- '):
            o += ['.IP \\(bu 2', line(l[2:])]
        elif l.strip() == '':
            header = None
            if o[-1] not in ('.PP', '.SH DESCRIPTION') and not o[-1].startswith('.S'):
                o.append('.PP')
        else:
            o.append(line(l.strip()))
        i += 1
    o.append('.SH SEE ALSO')
    o.append('.BR ommd (8),')
    o.append('.BR omctl (8),')
    o.append('.BR omrun (1)')
    open(out, 'w').write('\n'.join(o) + '\n')

main()
