namespace Resilience.Npgsql;

/// <summary>Reads just enough PostgreSQL SQL to tell where its statements end: semicolons outside literals, quoted names and comments.</summary>
internal static class SqlText
{
    /// <summary>Returns whether <paramref name="sql"/> holds more than one statement (empty statements, e.g. a trailing semicolon, do not count).</summary>
    public static bool HasSeveralStatements(string sql)
    {
        if (!sql.Contains(';', StringComparison.Ordinal))
        {
            return false; // the common case, without lexing
        }

        var statements = 0;
        var inStatement = false;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c == ';')
            {
                inStatement = false;
                i++;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            if (c == '-' && At(sql, i + 1, '-'))
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
                continue;
            }

            if (c == '/' && At(sql, i + 1, '*'))
            {
                i = SkipBlockComment(sql, i);
                continue;
            }

            if (!inStatement)
            {
                inStatement = true;
                if (++statements > 1)
                {
                    return true;
                }
            }

            i = c switch
            {
                '\'' => SkipQuoted(sql, i, '\'', backslashEscapes: i > 0 && (sql[i - 1] is 'E' or 'e') && !IsNameChar(sql, i - 2)),
                '"' => SkipQuoted(sql, i, '"', backslashEscapes: false),
                '$' => SkipDollarQuoted(sql, i),
                _ => i + 1,
            };
        }

        return false;
    }

    private static bool At(string sql, int index, char c) => index < sql.Length && sql[index] == c;

    private static bool IsNameChar(string sql, int index) =>
        index >= 0 && (char.IsLetterOrDigit(sql[index]) || sql[index] is '_' or '$');

    // Block comments nest in PostgreSQL.
    private static int SkipBlockComment(string sql, int start)
    {
        var depth = 0;
        var i = start;
        while (i < sql.Length)
        {
            if (sql[i] == '/' && At(sql, i + 1, '*'))
            {
                depth++;
                i += 2;
            }
            else if (sql[i] == '*' && At(sql, i + 1, '/'))
            {
                i += 2;
                if (--depth == 0)
                {
                    return i;
                }
            }
            else
            {
                i++;
            }
        }

        return sql.Length;
    }

    // A doubled quote stands for itself; E'...' strings also escape with a backslash.
    private static int SkipQuoted(string sql, int start, char quote, bool backslashEscapes)
    {
        var i = start + 1;
        while (i < sql.Length)
        {
            if (backslashEscapes && sql[i] == '\\')
            {
                i += 2;
            }
            else if (sql[i] == quote)
            {
                if (!At(sql, i + 1, quote))
                {
                    return i + 1;
                }

                i += 2;
            }
            else
            {
                i++;
            }
        }

        return sql.Length;
    }

    // $tag$ ... $tag$ (tag empty or a name); $1 is a parameter, and a $ inside a name is part of it.
    private static int SkipDollarQuoted(string sql, int start)
    {
        if (IsNameChar(sql, start - 1))
        {
            return start + 1;
        }

        var end = start + 1;
        while (end < sql.Length && (char.IsLetter(sql[end]) || sql[end] == '_' || (end > start + 1 && char.IsDigit(sql[end]))))
        {
            end++;
        }

        if (!At(sql, end, '$'))
        {
            return start + 1;
        }

        var tag = sql.AsSpan(start, end - start + 1);
        var close = sql.AsSpan(end + 1).IndexOf(tag, StringComparison.Ordinal);
        return close < 0 ? sql.Length : end + 1 + close + tag.Length;
    }
}
