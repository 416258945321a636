namespace Stax.IO;

/// <summary>Writes a file atomically: a temp file in the same directory, flushed to disk, then renamed over the target.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Runs <paramref name="write"/> on a fresh temp file beside <paramref name="path"/>, flushes it to
    /// the disk and moves it over <paramref name="path"/>. If anything throws, the temp file is
    /// deleted and the previous file at <paramref name="path"/> is untouched. A symbolic link at
    /// <paramref name="path"/> stays a link (its target is replaced), and a file that exists keeps
    /// its permission bits (the temp file is created with them, so a 0600 checkpoint is never
    /// readable by others, not even while it is written). Temp files that earlier saves of the same
    /// target left behind when their process died are removed.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = FinalTarget(Path.GetFullPath(path));
        string dir = Path.GetDirectoryName(full) ?? ".";
        string name = Path.GetFileName(full);
        RemoveStaleTemps(dir, name);
        string tmp = Path.Combine(dir, $".{name}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16 };
        if (!OperatingSystem.IsWindows() && File.Exists(full)) options.UnixCreateMode = File.GetUnixFileMode(full);
        try
        {
            using (var fs = new FileStream(tmp, options))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            // UnixCreateMode is filtered by the umask; set the bits exactly.
            if (!OperatingSystem.IsWindows() && options.UnixCreateMode is { } mode) File.SetUnixFileMode(tmp, mode);
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>The file a chain of symbolic links ends at (the path itself when it is no link).</summary>
    static string FinalTarget(string full)
    {
        if (new FileInfo(full).LinkTarget == null) return full;
        var target = File.ResolveLinkTarget(full, returnFinalTarget: true);
        return target == null ? full : Path.GetFullPath(target.FullName);
    }

    /// <summary>
    /// Deletes temp files of saves to <paramref name="name"/> whose writing process no longer runs
    /// (killed mid-save). Temps of live processes, concurrent savers included, are left alone.
    /// </summary>
    static void RemoveStaleTemps(string dir, string name)
    {
        string prefix = $".{name}.";
        string[] temps;
        try { temps = Directory.GetFiles(dir, prefix + "*.tmp"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (var tmp in temps)
        {
            string rest = Path.GetFileName(tmp)[prefix.Length..^4];
            int dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest.AsSpan(0, dash), out int pid) || rest.Length - dash - 1 != 32) continue;
            if (IsRunning(pid)) continue;
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }      // no such process
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or throws InvalidDataException naming the file.</summary>
    public static byte[] ReadExactly(Stream s, long count, string api, string where, string what)
    {
        if (count > Array.MaxLength)
            throw new NotSupportedException($"{api}: {where}: {what} is {count} bytes, more than one array can hold ({Array.MaxLength} bytes)");
        var buf = new byte[count];
        int got = s.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
        if (got < buf.Length)
            throw new InvalidDataException($"{api}: {where}: the file is truncated: {what} needs {count} bytes but only {got} remain");
        return buf;
    }
}
