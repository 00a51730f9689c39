# Turns every ```csharp block of the Markdown files given into a compilable C# file on stdout: each block's
# `using` lines are hoisted, the rest becomes the body of its own async method, so blocks stay independent.
/^```csharp[[:space:]]*$/ { inblock = 1; n++; body[n] = ""; src[n] = FILENAME ":" FNR; next }
/^```/ && inblock { inblock = 0; next }
inblock {
  if ($0 ~ /^using [A-Za-z0-9_.= ]+;[[:space:]]*$/) { usings[$0] = 1 } else { body[n] = body[n] $0 "\n" }
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
