# Turns the ```csharp blocks of the Markdown files given into a compilable C# file on stdout: each block's
# `using` lines are hoisted, the rest becomes the body of its own async method, so blocks stay independent.
# -v kind=web keeps the blocks that look like an ASP.NET Core app (WebApplication, app.Map…, Results.…);
# -v kind=console keeps the others, which must compile in a plain console app. Without kind, every block.
/^```csharp[[:space:]]*$/ { inblock = 1; cur = ""; curusings = ""; cursrc = FILENAME ":" FNR; next }
/^```/ && inblock {
  inblock = 0
  web = (cur ~ /WebApplication|app\.Map|Results\./)
  if (kind == "" || (kind == "web" && web) || (kind == "console" && !web)) {
    n++; body[n] = cur; src[n] = cursrc
    split(curusings, lines, "\n")
    for (i in lines) if (lines[i] != "") usings[lines[i]] = 1
  }
  next
}
inblock {
  if ($0 ~ /^using [A-Za-z0-9_.= ]+;[[:space:]]*$/) { curusings = curusings $0 "\n" } else { cur = cur $0 "\n" }
}
END {
  for (u in usings) print u
  print "#pragma warning disable CS0219, CS0168, CS8321, CS1998, CS4014, CA1849, CA2007, CA2000"
  print "internal static class ReadmeSnippets"
  print "{"
  for (i = 1; i <= n; i++) {
    print "    // " src[i]
    print "    internal static async System.Threading.Tasks.Task Snippet" i "()"
    print "    {"
    printf "%s", body[i]
    print "        await System.Threading.Tasks.Task.CompletedTask;"
    print "    }"
  }
  print "}"
}
