using Dashboard.Domain;
using Dashboard.Domain.Access;
using Dashboard.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Dashboard.Components.Shared;

/// <summary>What every console page needs: who the caller is, and a way to run an action that shows a refusal in place.</summary>
public abstract class ConsolePage : ComponentBase
{
    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    protected ISnackbar Snackbar { get; set; } = default!;

    [Inject]
    protected IDialogService Dialogs { get; set; } = default!;

    [Inject]
    protected NavigationManager Navigation { get; set; } = default!;

    protected async Task<Caller> CallerAsync() => (await AuthenticationState).User.ToCaller();

    /// <summary>Runs <paramref name="action"/>; a domain refusal becomes an error message, a success an optional note.</summary>
    /// <returns>Whether the action succeeded.</returns>
    protected async Task<bool> TryAsync(Func<Task> action, string? success = null, Action<ValidationFailedException>? onInvalid = null)
    {
        try
        {
            await action();
            if (success is not null)
            {
                Snackbar.Add(success, Severity.Success);
            }

            return true;
        }
        catch (ValidationFailedException e) when (onInvalid is not null)
        {
            onInvalid(e);
            return false;
        }
        catch (DashboardException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
            return false;
        }
    }

    protected Task<bool> ConfirmAsync(string title, string message, string yes) =>
        Dialogs.ShowMessageBoxAsync(title, message, yesText: yes, cancelText: "Cancel").ContinueWith(t => t.Result == true);
}
